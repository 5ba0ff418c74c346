"""The pages of the live-video app; included by ``livestream/urls.py`` into the
``livestream`` namespace.

* ``exhibit/<exhibitor_id>/sessions/...`` and ``.../go-live/``: the exhibitor's own area
* ``live/...``: the programme, stream rooms, reminders, calendars and My fair"""

from django.urls import path

from livestream.pages import calendars, chat, manage, programme

urlpatterns = [
    # The exhibitor's sessions (any staff role) and going live (owners and admins).
    path("exhibit/<int:exhibitor_id>/sessions/", manage.session_list, name="session_list"),
    path("exhibit/<int:exhibitor_id>/sessions/new/", manage.session_create, name="session_create"),
    path(
        "exhibit/<int:exhibitor_id>/sessions/<int:session_id>/",
        manage.session_edit,
        name="session_edit",
    ),
    path(
        "exhibit/<int:exhibitor_id>/sessions/<int:session_id>/cancel/",
        manage.session_cancel,
        name="session_cancel",
    ),
    path("exhibit/<int:exhibitor_id>/go-live/", manage.go_live, name="go_live"),
    path("exhibit/<int:exhibitor_id>/go-live/rotate/", manage.key_rotate, name="key_rotate"),
    # The programme and the rooms.
    path("live/", programme.programme_live_now, name="live_now"),
    path("live/upcoming/", programme.programme_upcoming_page, name="upcoming"),
    path("live/my/", programme.my_fair, name="my_fair"),
    path("live/feed/<str:token>.ics", calendars.feed, name="feed"),
    path("live/<int:session_id>/", programme.room, name="room"),
    path("live/<int:session_id>/calendar.ics", calendars.session_ics, name="session_ics"),
    path("live/<int:session_id>/pin/", programme.pin, name="pin"),
    path("live/<int:session_id>/chat/", chat.chat_history, name="chat_history"),
    path("live/<int:session_id>/remind/", programme.remind, name="remind"),
    path("live/<int:session_id>/unremind/", programme.unremind, name="unremind"),
]
