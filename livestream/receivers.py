"""Side channels from lower apps (connected in ``LivestreamConfig.ready``).

A suspended company goes off the air at once: ``exhibitors`` sends
``exhibitor_status_changed`` after the suspension has committed, and its live sessions are
ended and its encoder dropped here (``services.exhibitor_streams_stop``). The stream key is
refused from then on by the publish and update callbacks, which read the company's status."""

from __future__ import annotations

from django.dispatch import receiver

from exhibitors.models import Exhibitor
from exhibitors.signals import exhibitor_status_changed
from livestream import services


@receiver(exhibitor_status_changed, dispatch_uid="livestream.stop_streams_on_suspension")
def stop_streams_on_suspension(sender, *, exhibitor_id: int, new_status: str, **kwargs) -> None:
    if new_status != Exhibitor.Status.SUSPENDED:
        return
    services.exhibitor_streams_stop(exhibitor_id=exhibitor_id, actor_id=kwargs.get("actor_id"))
