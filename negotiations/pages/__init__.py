"""Server-rendered pages of the negotiations app (mounted by ``negotiations.urls`` under
``/negotiations/``):

* ``rooms``: the "One-to-one negotiation" button's target (a confirmation page, then
  ``negotiation_open``), the room page, and the room's staff actions (assign, close, reopen);
* ``inboxes``: the buyer's "My negotiations" list and the exhibitor's shared inbox.

Every page reaches rooms through ``negotiations.selectors`` (``negotiation_for_party``,
``negotiations_of_buyer``, ``negotiations_of_exhibitor``) and writes through one service of
``negotiations.services``: a non-party gets the same 404 as for a room that does not exist.
The room page is live through ``static/negotiations/js/room.js`` (the ``/ws/negotiations/``
socket and the REST API for files and quotes); without JavaScript it still shows the
room's header and actions."""
