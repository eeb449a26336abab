from django.urls import path
from rest_framework.routers import DefaultRouter

from realtime import presence_views, views

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("activity", views.ActivityViewSet, basename="activity")
router.register("notifications", views.NotificationViewSet, basename="notification")

urlpatterns = [
    *router.urls,
    path("events/", views.EventsView.as_view(), name="events"),
    path("realtime/ticket/", presence_views.TicketView.as_view(), name="realtime-ticket"),
    path(
        "presence/<str:resource_type>/<int:resource_id>/",
        presence_views.PresenceView.as_view(),
        name="presence",
    ),
]
