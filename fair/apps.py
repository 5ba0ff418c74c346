from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FairConfig(AppConfig):
    name = "fair"
    verbose_name = _("Fair")

    def ready(self) -> None:
        from fair import receivers  # noqa: F401 (connects the auth signal receivers)
        from fair.organiser.nav import register_organiser_nav

        register_organiser_nav(_("Dashboard"), "organiser:dashboard", position=10)
        register_organiser_nav(_("Announcements"), "organiser:announcements", position=60)
        register_organiser_nav(_("Fair editions"), "organiser:editions", position=70)
        register_organiser_nav(_("Categories"), "organiser:categories", position=72)
        register_organiser_nav(_("Halls"), "organiser:halls", position=74)
        register_organiser_nav(_("Audit log"), "organiser:audit", position=90)
