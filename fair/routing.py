"""Every websocket route of the platform (apps add theirs here as they arrive)."""

from django.urls import path

from fair.consumers import HealthConsumer

websocket_urlpatterns = [
    path("ws/health/", HealthConsumer.as_asgi()),
]
