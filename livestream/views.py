"""HTTP endpoints of the live-video app."""

from __future__ import annotations

import hmac
import logging

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from livestream import services

logger = logging.getLogger(__name__)


def _from_media_server(request: HttpRequest) -> bool:
    expected = settings.MEDIA_STREAM_CALLBACK_SECRET
    given = request.headers.get("X-Media-Callback-Secret", "")
    return bool(expected) and hmac.compare_digest(given.encode(), expected.encode())


# The media server cannot send a CSRF token; it proves itself with the shared secret header
# instead, and the endpoints accept nothing from browsers.
@csrf_exempt
@require_POST
def media_on_publish(request: HttpRequest) -> HttpResponse:
    """nginx-rtmp ``on_publish``: 2xx lets the encoder publish, 403 refuses it. The stream
    name is the channel's public id; the key arrives as the ``key`` form field (from
    ``rtmp://host/live/<public-id>?key=<secret>``) and is never logged."""
    if not _from_media_server(request):
        logger.warning("media callback refused: bad or missing secret")
        return HttpResponse(status=403)
    public_id = request.POST.get("name", "")
    try:
        services.media_publish(public_id=public_id, key=request.POST.get("key", ""))
    except services.MediaRefused:
        logger.info("publish refused for channel %s", public_id[:32])
        return HttpResponse(status=403)
    return HttpResponse(status=204)


@csrf_exempt
@require_POST
def media_on_publish_done(request: HttpRequest) -> HttpResponse:
    if not _from_media_server(request):
        logger.warning("media callback refused: bad or missing secret")
        return HttpResponse(status=403)
    services.media_publish_done(
        public_id=request.POST.get("name", ""), key=request.POST.get("key", "")
    )
    return HttpResponse(status=204)


@csrf_exempt
@require_POST
def media_on_update(request: HttpRequest) -> HttpResponse:
    """nginx-rtmp ``on_update``, every 10 s per connected encoder (``call=update_publish``;
    players are not sent here): 2xx keeps the publisher, 403 makes nginx drop it (a
    suspended company, a rotated key, a session an organiser stopped)."""
    if not _from_media_server(request):
        logger.warning("media callback refused: bad or missing secret")
        return HttpResponse(status=403)
    public_id = request.POST.get("name", "")
    try:
        services.media_update(public_id=public_id, key=request.POST.get("key", ""))
    except services.MediaRefused:
        logger.info("publisher dropped at update for channel %s", public_id[:32])
        return HttpResponse(status=403)
    return HttpResponse(status=204)
