"""Routes of the files API (basename `file`: file-list, file-detail, file-upload, ...)."""

from rest_framework.routers import DefaultRouter

from files import views

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("files", views.FileViewSet, basename="file")

urlpatterns = router.urls
