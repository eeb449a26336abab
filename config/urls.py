"""URL configuration: the API under /api/v1/, admin, schema and docs, ops endpoints, the desk."""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from common import health

api_v1 = [
    path("", include("accounts.urls")),
    path("", include("episodes.urls")),
    path("", include("files.urls")),
    path("", include("jobs.urls")),
    path("", include("realtime.urls")),
]

urlpatterns = [
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
    path("admin/", admin.site.urls),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", health.metrics_view, name="metrics"),
    path("", include("desk.urls")),
]
