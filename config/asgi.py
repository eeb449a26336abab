"""ASGI entry point: Django for HTTP, the realtime consumer for the WebSocket at /ws/."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from common.body_limit import RequestBodyLimit  # noqa: E402
from realtime.routing import websocket_urlpatterns  # noqa: E402
from realtime.socket_auth import TicketOrSessionAuth  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": RequestBodyLimit(django_asgi_app),
        "websocket": TicketOrSessionAuth(URLRouter(websocket_urlpatterns)),
    }
)
