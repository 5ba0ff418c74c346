from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NegotiationsConfig(AppConfig):
    name = "negotiations"
    verbose_name = _("Negotiations")

    def ready(self) -> None:
        # The fair core cannot import this app: it registers its dashboard figures and its
        # organisers' section there.
        from fair.dashboard import register_figures
        from fair.organiser.nav import register_organiser_nav
        from negotiations import figures

        register_organiser_nav(_("Negotiations"), "org_negotiations:overview", position=50)
        register_figures("negotiations", figures.negotiations_figures, every=5)
        register_figures("negotiations_per_day", figures.negotiations_per_day, every=60)
