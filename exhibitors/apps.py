from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ExhibitorsConfig(AppConfig):
    name = "exhibitors"
    verbose_name = _("Exhibitors")

    def ready(self) -> None:
        # The fair core cannot import this app: the app registers its audience and its
        # organisers' section there.
        from exhibitors.selectors import (
            audience_exhibitors_includes,
            audience_exhibitors_users,
            is_exhibitor_admin,
        )
        from fair.audiences import register_audience
        from fair.organiser.nav import register_organiser_nav
        from fair.session_limits import register_privileged

        register_audience(
            "exhibitors",
            includes=audience_exhibitors_includes,
            users=audience_exhibitors_users,
        )
        register_organiser_nav(_("Exhibitors"), "org_exhibitors:list", position=20)
        register_privileged(is_exhibitor_admin)
