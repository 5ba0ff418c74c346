"""Every websocket route of the platform (apps add theirs here as they arrive)."""

from django.urls import path

from fair.consumers import HealthConsumer, NoticesConsumer, OrganiserConsumer
from livestream.routing import websocket_urlpatterns as livestream_websocket_urlpatterns
from negotiations.routing import websocket_urlpatterns as negotiations_websocket_urlpatterns

websocket_urlpatterns = [
    path("ws/health/", HealthConsumer.as_asgi()),
    path("ws/notices/", NoticesConsumer.as_asgi()),
    path("ws/organiser/", OrganiserConsumer.as_asgi()),
    *livestream_websocket_urlpatterns,
    *negotiations_websocket_urlpatterns,
]
