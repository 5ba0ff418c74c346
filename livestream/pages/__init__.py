"""The pages of the live-video app (``livestream/views.py`` holds the media server's
callbacks): ``manage`` (the exhibitor's sessions and go-live page), ``programme`` (Live now,
Upcoming, the stream room, reminders, My fair), ``calendars`` (.ics files) and ``timing``
(how times read, in the viewer's zone).

Every page loads through ``livestream.selectors`` and writes through one service."""
