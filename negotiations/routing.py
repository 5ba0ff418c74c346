"""Websocket route of the negotiations app, mounted by ``fair.routing``."""

from django.urls import path

from negotiations.consumers import NegotiationConsumer

websocket_urlpatterns = [
    path("ws/negotiations/", NegotiationConsumer.as_asgi()),
]
