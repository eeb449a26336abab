"""Media files of episodes: uploads to S3 or local storage, verified, then probed."""

from django.apps import AppConfig


class FilesConfig(AppConfig):
    name = "files"

    def ready(self) -> None:
        from files import receivers  # noqa: F401 - connects the storage cleanup
