from django.apps import AppConfig


class EpisodesConfig(AppConfig):
    name = "episodes"

    def ready(self) -> None:
        from episodes import search_receivers  # noqa: F401 - connects its receivers
