"""Live sessions around the clock: schedules, stream channels with secret keys, reminders."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Region(models.TextChoices):
    MIDDLE_EAST_AFRICA = "mea", _("Middle East & Africa")
    EUROPE = "europe", _("Europe")
    AMERICAS = "americas", _("Americas")
    ASIA_PACIFIC = "apac", _("Asia-Pacific")
    RUSSIA_CENTRAL_ASIA = "russia_ca", _("Russia & Central Asia")
    CHINA = "china", _("Domestic China")


#: A representative business-hours zone per region (the scheduling page shows their local
#: time so a region-targeted session lands in working hours).
REGION_TIME_ZONES = {
    Region.MIDDLE_EAST_AFRICA: ["Asia/Riyadh", "Asia/Dubai", "Africa/Lagos", "Africa/Cairo"],
    Region.EUROPE: ["Europe/London", "Europe/Paris", "Europe/Berlin"],
    Region.AMERICAS: ["America/New_York", "America/Mexico_City", "America/Sao_Paulo"],
    Region.ASIA_PACIFIC: ["Asia/Tokyo", "Asia/Singapore", "Australia/Sydney", "Asia/Kolkata"],
    Region.RUSSIA_CENTRAL_ASIA: ["Europe/Moscow", "Asia/Almaty"],
    Region.CHINA: ["Asia/Shanghai"],
}

SESSION_LANGUAGES = [
    ("en", "English"),
    ("zh", "中文"),
    ("ar", "العربية"),
    ("ru", "Русский"),
    ("es", "Español"),
    ("fr", "Français"),
    ("pt", "Português"),
    ("de", "Deutsch"),
    ("ja", "日本語"),
    ("ko", "한국어"),
    ("tr", "Türkçe"),
    ("hi", "हिन्दी"),
]


class LiveSessionQuerySet(models.QuerySet):
    def public(self):
        """Sessions anyone may see: not cancelled, of an approved exhibitor."""
        return self.exclude(status=LiveSession.Status.CANCELLED).filter(
            exhibitor__status="approved"
        )

    def live(self):
        return self.filter(status=LiveSession.Status.LIVE)

    def upcoming(self, now=None):
        return self.filter(
            status=LiveSession.Status.SCHEDULED, scheduled_end__gt=now or timezone.now()
        )


class LiveSession(models.Model):
    class Kind(models.TextChoices):
        LAUNCH = "launch", _("Product launch")
        SHOWCASE = "showcase", _("Showcase")
        FACTORY_TOUR = "factory_tour", _("Factory tour")
        BRIEFING = "briefing", _("Procurement briefing")

    class Status(models.TextChoices):
        SCHEDULED = "scheduled", _("Scheduled")
        LIVE = "live", _("Live")
        ENDED = "ended", _("Ended")
        CANCELLED = "cancelled", _("Cancelled")

    class Source(models.TextChoices):
        RTMP = "rtmp", _("Our media server (OBS or any RTMP encoder)")
        EXTERNAL = "external", _("An external HLS stream (cloud live service)")

    class ReplayStatus(models.TextChoices):
        NONE = "none", _("No replay")
        PROCESSING = "processing", _("Being prepared")
        READY = "ready", _("Ready")
        FAILED = "failed", _("Failed")

    exhibitor = models.ForeignKey(
        "exhibitors.Exhibitor", on_delete=models.CASCADE, related_name="live_sessions"
    )
    title = models.CharField(_("title"), max_length=160)
    description = models.TextField(_("description"), max_length=5000, blank=True)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.SHOWCASE)
    language = models.CharField(
        _("language"), max_length=8, choices=SESSION_LANGUAGES, default="en"
    )
    target_regions = models.JSONField(_("target regions"), default=list, blank=True)
    featured_products = models.ManyToManyField(
        "exhibitors.Product",
        blank=True,
        related_name="live_sessions",
        verbose_name=_("featured products"),
    )
    scheduled_start = models.DateTimeField(_("start"))
    scheduled_end = models.DateTimeField(_("end"))
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=Status.choices,
        default=Status.SCHEDULED,
        db_index=True,
    )
    is_adhoc = models.BooleanField(_("opened by going live"), default=False)
    started_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.RTMP)
    external_hls_url = models.URLField(_("external HLS URL"), blank=True)
    pinned_product = models.ForeignKey(
        "exhibitors.Product", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    replay_status = models.CharField(
        max_length=12, choices=ReplayStatus.choices, default=ReplayStatus.NONE
    )
    replay = models.FileField(upload_to="replays/", blank=True)
    recording_path = models.CharField(max_length=500, blank=True, editable=False)
    peak_viewers = models.PositiveIntegerField(default=0)
    # The stream room's chat (livestream.chat): the last sequence number handed out (rows
    # lock on it, so numbers have no gaps), slow mode, and the pinned message's number.
    chat_last_seq = models.PositiveIntegerField(default=0, editable=False)
    chat_slow_mode_seconds = models.PositiveSmallIntegerField(_("chat slow mode"), default=0)
    chat_pinned_seq = models.PositiveIntegerField(null=True, blank=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = LiveSessionQuerySet.as_manager()

    class Meta:
        ordering = ["scheduled_start"]
        verbose_name = _("live session")
        verbose_name_plural = _("live sessions")
        indexes = [
            models.Index(fields=["status", "scheduled_start"]),
            models.Index(fields=["exhibitor", "scheduled_start"]),
            # The dashboard's "streams live per hour" counts starts and ends by time.
            models.Index(fields=["started_at"], name="live_session_started"),
            models.Index(fields=["ended_at"], name="live_session_ended"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(scheduled_end__gt=F("scheduled_start")),
                name="live_session_ends_after_start",
                violation_error_message=_("A session must end after it starts."),
            ),
            # No two sessions of one exhibitor overlap: an exclusion constraint added by
            # migration 0002 on PostgreSQL (btree_gist); services check it too.
        ]

    def __str__(self) -> str:
        return self.title


class StreamChannel(models.Model):
    """An exhibitor's stream: the public playback id (names the HLS files) and the secret
    key encoders publish with. Only a hash of the key is used for checking; the key itself
    is kept encrypted so owners and admins can see it again on the go-live page."""

    exhibitor = models.OneToOneField(
        "exhibitors.Exhibitor", on_delete=models.CASCADE, related_name="stream_channel"
    )
    public_id = models.CharField(max_length=32, unique=True)
    key_hash = models.CharField(max_length=64)
    key_encrypted = models.TextField()
    key_rotated_at = models.DateTimeField(default=timezone.now)
    current_session = models.ForeignKey(
        LiveSession, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("stream channel")

    def __str__(self) -> str:
        return f"Channel {self.public_id} of {self.exhibitor}"


class SessionReminder(models.Model):
    """A buyer asked to be reminded of a session. ``notified_at`` makes the reminder go out
    exactly once, however often the beat task runs."""

    session = models.ForeignKey(LiveSession, on_delete=models.CASCADE, related_name="reminders")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="session_reminders"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    notified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["session__scheduled_start"]
        constraints = [
            models.UniqueConstraint(fields=["session", "user"], name="session_reminder_unique")
        ]

    def __str__(self) -> str:
        return f"Remind {self.user} of {self.session}"


class StreamKeyAudit(models.Model):
    """Who revealed or rotated a stream key, and when (append-only)."""

    class Action(models.TextChoices):
        REVEAL = "reveal", _("Revealed")
        ROTATE = "rotate", _("Rotated")

    channel = models.ForeignKey(StreamChannel, on_delete=models.CASCADE, related_name="audits")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    action = models.CharField(max_length=8, choices=Action.choices)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"{self.get_action_display()} by {self.user} at {self.at:%Y-%m-%d %H:%M}"


class ChatMessage(models.Model):
    """One message of a stream room's public chat. ``seq`` numbers a session's messages from
    1 without gaps; the author's name, company and badge are copied in when it is sent so
    the history and the fan-out need no join. A hidden message keeps its number (clients
    see a placeholder, so sequences stay contiguous) but never its text."""

    class Badge(models.TextChoices):
        NONE = "", _("None")
        EXHIBITOR = "exhibitor", _("Exhibitor")
        ORGANISER = "organiser", _("Organiser")

    session = models.ForeignKey(LiveSession, on_delete=models.CASCADE, related_name="chat_messages")
    seq = models.PositiveIntegerField()
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    client_id = models.CharField(max_length=64)
    author_name = models.CharField(max_length=120)
    author_company = models.CharField(max_length=200, blank=True)
    badge = models.CharField(max_length=10, choices=Badge.choices, blank=True, default="")
    body = models.TextField(max_length=1000)
    is_question = models.BooleanField(default=False)
    answered_at = models.DateTimeField(null=True, blank=True)
    hidden_at = models.DateTimeField(null=True, blank=True)
    hidden_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["session", "seq"]
        verbose_name = _("chat message")
        verbose_name_plural = _("chat messages")
        constraints = [
            models.UniqueConstraint(fields=["session", "seq"], name="chat_message_seq_unique"),
            models.UniqueConstraint(
                fields=["session", "author", "client_id"], name="chat_message_client_id_unique"
            ),
        ]
        indexes = [
            models.Index(
                fields=["session", "seq"],
                condition=Q(is_question=True, answered_at__isnull=True, hidden_at__isnull=True),
                name="chat_open_questions",
            )
        ]

    def __str__(self) -> str:
        return f"#{self.seq} {self.author_name}: {self.body[:40]}"


class ChatRestriction(models.Model):
    """A user muted (until a time) or banned (until lifted) from an exhibitor's stream
    rooms: a spammer banned in one session cannot come back at the next one."""

    class Kind(models.TextChoices):
        MUTE = "mute", _("Muted")
        BAN = "ban", _("Banned")

    exhibitor = models.ForeignKey(
        "exhibitors.Exhibitor", on_delete=models.CASCADE, related_name="chat_restrictions"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="chat_restrictions"
    )
    kind = models.CharField(max_length=4, choices=Kind.choices)
    until = models.DateTimeField(null=True, blank=True)
    session = models.ForeignKey(
        LiveSession, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    message = models.ForeignKey(
        ChatMessage, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    lifted_at = models.DateTimeField(null=True, blank=True)
    lifted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("chat restriction")
        verbose_name_plural = _("chat restrictions")
        indexes = [models.Index(fields=["exhibitor", "user"], name="chat_restriction_lookup")]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind="ban") | Q(until__isnull=False),
                name="chat_mute_has_end",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.user} ({self.exhibitor})"


class ChatReport(models.Model):
    """A signed-in user reported a chat message; organisers work through open reports. A
    decision closes every open report of the message at once: ``status`` says what was
    decided, ``resolved_by`` / ``resolved_at`` who and when, ``decision_note`` why."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        HIDDEN = "hidden", _("Message hidden")
        DISMISSED = "dismissed", _("Dismissed")
        MUTED = "muted", _("Author muted")
        BANNED = "banned", _("Author banned")

    message = models.ForeignKey(ChatMessage, on_delete=models.CASCADE, related_name="reports")
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="chat_reports"
    )
    reason = models.CharField(_("reason"), max_length=500, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    created_at = models.DateTimeField(auto_now_add=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    decision_note = models.CharField(_("decision note"), max_length=500, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("chat report")
        verbose_name_plural = _("chat reports")
        constraints = [
            models.UniqueConstraint(
                fields=["message", "reporter"], name="chat_report_once_per_reporter"
            )
        ]
        indexes = [models.Index(fields=["status", "created_at"], name="chat_report_queue")]

    def __str__(self) -> str:
        return f"Report of #{self.message_id} by {self.reporter}"
