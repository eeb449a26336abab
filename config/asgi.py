"""ASGI entry point: Django for HTTP, the realtime consumer for the WebSocket at /ws/."""

import gc
import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
# PostgreSQL connections from a pool in this process (config/settings.py says why); not
# left in the environment, which a Celery worker started from here would inherit.
_pool_default = "DATABASE_POOL_MAX_SIZE" not in os.environ
if _pool_default:
    os.environ["DATABASE_POOL_MAX_SIZE"] = "20"
try:
    django_asgi_app = get_asgi_application()
finally:
    if _pool_default:
        del os.environ["DATABASE_POOL_MAX_SIZE"]

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

# A server process holds hundreds of thousands of long-lived objects (the code, then each
# socket's), and a fan-out makes thousands of short-lived ones at once (a task and a message
# per socket). With CPython's default thresholds (700, 10, 10) those were promoted and
# triggered a full collection every few events at 2,000 sockets, each a 0.2-0.5 s pause of
# the event loop, a quarter of its CPU (bench/ws_fanout.py). What the imports made is
# frozen out of collections, and young collections run once per 50,000 allocations.
gc.collect()
gc.freeze()
gc.set_threshold(50_000, 20, 10)
