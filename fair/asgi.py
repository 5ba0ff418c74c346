"""One ASGI application for HTTP and websockets, served by Daphne:
``daphne fair.asgi:application``."""

import gc
import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fair.settings.base")

from django.core.asgi import get_asgi_application  # noqa: E402

# Django must be set up before anything imports models (consumers, auth middleware).
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from fair.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        # The Origin header must name one of ALLOWED_HOSTS (no '*' is allowed there), so a
        # page on another site cannot open a socket with the visitor's cookies.
        "websocket": AllowedHostsOriginValidator(
            AuthMiddlewareStack(URLRouter(websocket_urlpatterns))
        ),
    }
)

# Everything loaded so far (Django, apps, URL maps) lives as long as the process: move it out
# of the collector's sight, and collect young objects less often. With tens of thousands of
# sockets, full collections walking every long-lived object paused the event loop for more
# than a second (measured for the chat fan-out); frozen, they cost milliseconds.
gc.collect()
gc.freeze()
gc.set_threshold(50_000, 20, 100)
