"""ASGI entry point: HTTP through Django, WebSockets through Channels."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "webapp.settings")
# Django must be set up before anything that imports models or consumers.
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402
from django.urls import re_path  # noqa: E402

from webapp import startup  # noqa: E402
from webapp.disconnect import DisconnectAware  # noqa: E402
from webapp.classroom.routing import websocket_urlpatterns as classroom_websockets  # noqa: E402
from webapp.lab.routing import websocket_urlpatterns as lab_websockets  # noqa: E402
from webapp.websockets import UnknownPath  # noqa: E402

# Every WebSocket route of the app; anything else is refused (403) rather than a server error.
websocket_routes = [*lab_websockets, *classroom_websockets]

application = ProtocolTypeRouter(
    {
        "http": DisconnectAware(django_asgi_app),
        # Sessions and users on every socket: a classroom knows its instructor and its students.
        "websocket": AllowedHostsOriginValidator(
            AuthMiddlewareStack(URLRouter([*websocket_routes, re_path(r"", UnknownPath())]))
        ),
    }
)

startup.server_started()
