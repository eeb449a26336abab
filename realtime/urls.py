from django.urls import path
from rest_framework.routers import DefaultRouter

from realtime import presence_views, views

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("activity", views.ActivityViewSet, basename="activity")
router.register("notifications", views.NotificationViewSet, basename="notification")

urlpatterns = [
    # Before the router's `notifications/<pk>/...` routes, which must not take it for an id.
    path(
        "notifications/preferences/",
        views.NotificationPreferencesView.as_view(),
        name="notification-preferences",
    ),
    # episodes.urls (included before this module) has no route of this shape.
    path("episodes/<int:pk>/mute/", views.EpisodeMuteView.as_view(), name="episode-mute"),
    *router.urls,
    path("events/", views.EventsView.as_view(), name="events"),
    path("realtime/ticket/", presence_views.TicketView.as_view(), name="realtime-ticket"),
    path(
        "presence/<str:resource_type>/<int:resource_id>/",
        presence_views.PresenceView.as_view(),
        name="presence",
    ),
]
