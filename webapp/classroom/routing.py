"""WebSocket routes of the classroom; webapp/asgi.py mounts them."""

from django.urls import path

from . import consumers

websocket_urlpatterns = [
    path("ws/classroom/<str:code>/", consumers.RoomConsumer.as_asgi(), name="room"),
]
