from django.urls import path
from rest_framework.routers import DefaultRouter

from realtime import views

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("activity", views.ActivityViewSet, basename="activity")
router.register("notifications", views.NotificationViewSet, basename="notification")

urlpatterns = [
    *router.urls,
    path("events/", views.EventsView.as_view(), name="events"),
]
