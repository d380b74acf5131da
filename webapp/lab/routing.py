"""WebSocket routes of the lab; webapp/asgi.py mounts them."""

from django.urls import path

from . import consumers

websocket_urlpatterns = [
    path("ws/stream/", consumers.StreamConsumer.as_asgi(), name="stream"),
]
