"""Every write of the negotiations app: opening rooms, messages, attachments, quotes and their
state machine, read markers, assignment, closing.

Rules every function here keeps:

* **Party check first, under the room's row lock.** Each write reaches its room through
  ``negotiation_for_party(..., for_update=True)`` (text messages through the same check in
  the ``WHERE`` of their one statement, ``messages.text_store``): non-parties get
  ``NotFound`` (as for a missing room), and everything that changes a room (sequence
  numbers, read markers, quote states) happens while its row is locked. Locks are always
  taken room first, then quote, so two writers never deadlock.
* **Sequence numbers without gaps.** ``seq`` is ``last_seq + 1`` under the lock, written in
  the same transaction as the message; a failed insert (e.g. a duplicate ``client_id`` that
  slipped past the check) rolls the whole transaction back, so no number is ever skipped.
* **Idempotent on ``client_id``.** Sending again with the same ``client_id`` (a client retrying
  after a lost ack) returns the stored message and changes nothing.
* **Persist, then broadcast.** Events go to the parties' negotiation groups
  (``events.party_group``: the buyer and every staff member of the exhibitor) only after
  the transaction commits, encoded once; the offline-email task is queued on commit too (at
  most one pending per room; ``room_log.notify_queue`` remembers a pending one so a busy
  room costs no Redis round trip per message). The websocket consumer stores a text message
  with ``text_store`` and publishes its broadcast itself, from the event loop, after the
  statement committed.
* **Contact rules.** Only a signed-in buyer (an account with a buyer profile, not an
  organiser) opens rooms, never with a company they are staff of; a suspended (or not yet
  approved) exhibitor cannot be contacted: opening answers as for a missing exhibitor, and
  writing into its existing rooms is refused for both sides (a suspended one's rooms stay
  readable: ``read_only``; reinstating it makes them writable again)."""

from negotiations.services.messages import (
    TextSent,
    attachment_send,
    message_send,
    text_body_check,
    text_store,
    text_store_many,
)
from negotiations.services.quotes import (
    QUOTE_FIELDS,
    quote_accept,
    quote_decline,
    quote_send,
    quotes_expire,
)
from negotiations.services.room_log import (
    CLIENT_ID_RE,
    client_id_check,
    notify_forget,
    notify_pending_key,
)
from negotiations.services.rooms import (
    ROOMS_PER_HOUR,
    negotiation_assign,
    negotiation_close,
    negotiation_mark_read,
    negotiation_open,
    negotiation_reopen,
)

__all__ = [
    "CLIENT_ID_RE",
    "QUOTE_FIELDS",
    "ROOMS_PER_HOUR",
    "TextSent",
    "attachment_send",
    "client_id_check",
    "message_send",
    "negotiation_assign",
    "negotiation_close",
    "negotiation_mark_read",
    "negotiation_open",
    "negotiation_reopen",
    "notify_forget",
    "notify_pending_key",
    "quote_accept",
    "quote_decline",
    "quote_send",
    "quotes_expire",
    "text_body_check",
    "text_store",
    "text_store_many",
]
