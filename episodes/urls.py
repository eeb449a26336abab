from rest_framework.routers import DefaultRouter

from episodes import views

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("episodes", views.EpisodeViewSet, basename="episode")
router.register("compositions", views.CompositionViewSet, basename="composition")

urlpatterns = router.urls
