"""Signals of the exhibitors app, for apps higher up (which exhibitors may not import).

``exhibitor_status_changed`` is sent once the transaction that changed an exhibitor's status
has committed, with ``exhibitor_id``, ``old_status``, ``new_status`` and ``actor_id``. The
live-stream app stops a suspended company's streams on it."""

from django.dispatch import Signal

exhibitor_status_changed = Signal()
