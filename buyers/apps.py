from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BuyersConfig(AppConfig):
    name = "buyers"
    verbose_name = _("Buyers")

    def ready(self) -> None:
        # The fair core cannot import this app: the app registers its audience and its
        # dashboard figures there.
        from buyers import figures
        from buyers.selectors import audience_buyers_includes, audience_buyers_users
        from fair.audiences import register_audience
        from fair.dashboard import register_figures

        register_audience("buyers", includes=audience_buyers_includes, users=audience_buyers_users)
        register_figures("buyers_online", figures.buyers_online, every=5)
        register_figures("buyers_by_country", figures.buyers_by_country, every=60)
