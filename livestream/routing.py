"""Websocket routes of the live-video app, mounted by ``fair.routing``."""

from django.urls import path

from livestream.consumers import LiveRoomConsumer, ProgrammeConsumer

websocket_urlpatterns = [
    path("ws/live/programme/", ProgrammeConsumer.as_asgi()),
    path("ws/live/<int:session_id>/", LiveRoomConsumer.as_asgi()),
]
