from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LivestreamConfig(AppConfig):
    name = "livestream"
    verbose_name = _("Live sessions")

    def ready(self) -> None:
        from fair.dashboard import register_figures
        from fair.organiser.nav import register_organiser_nav
        from livestream import figures, receivers  # noqa: F401 (connects the receivers)

        register_organiser_nav(_("Moderation"), "org_live:reports", position=30)
        register_organiser_nav(_("Live sessions"), "org_live:sessions", position=40)
        register_figures("live", figures.live_figures, every=5)
        register_figures("streams_per_hour", figures.streams_per_hour, every=60)
