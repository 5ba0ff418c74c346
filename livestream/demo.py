"""Demo sessions for ``manage.py seed_demo``: a programme around the clock for the demo
exhibitors, including a Middle East & Africa launch and reminders for a demo buyer. Safe to
run again (exhibitors that already have sessions are skipped)."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from exhibitors.models import Exhibitor, ExhibitorMember
from fair.models import User
from livestream import services
from livestream.models import LiveSession, SessionReminder

PROGRAMME = {
    "Sunrise Electronics": [
        # (hours from the next full hour, length in hours, title, kind, language, regions)
        (1, 1, "85-inch smart TVs for the Middle East and Africa", "launch", "ar", ["mea"]),
        (9, 1, "8 new TV models: the launch", "launch", "en", ["europe", "americas"]),
        (30, 2, "Factory tour: our Guangzhou panel line", "factory_tour", "en", []),
    ],
    "Lumen Lighting": [
        (3, 1, "LED street lights for municipal tenders", "showcase", "es", ["americas"]),
        (20, 1, "Warehouse lighting: high-bay ranges", "showcase", "ru", ["russia_ca"]),
    ],
    "Golden Kitchen Ware": [
        (5, 1, "Cookware for e-commerce sellers", "briefing", "zh", ["china"]),
    ],
    "SmartBin Home": [
        (7, 1, "Touchless bins: designed from sales data", "launch", "fr", ["europe"]),
    ],
}


def demo_sessions_load(*, remind: User | None = None) -> int:
    """Schedule the demo programme; returns how many sessions were created."""
    start_hour = timezone.now().replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    created = 0
    for name, sessions in PROGRAMME.items():
        exhibitor = Exhibitor.objects.filter(display_name=name).first()
        if exhibitor is None or LiveSession.objects.filter(exhibitor=exhibitor).exists():
            continue
        owner = ExhibitorMember.objects.filter(exhibitor=exhibitor, role="owner").first().user
        products = list(exhibitor.products.filter(is_published=True)[:3])
        for offset, length, title, kind, language, regions in sessions:
            start = start_hour + timedelta(hours=offset)
            session = services.session_schedule(
                user=owner,
                exhibitor_id=exhibitor.pk,
                title=title,
                description=f"{title}. Ask anything in the chat; negotiate one to one.",
                start=start,
                end=start + timedelta(hours=length),
                kind=kind,
                language=language,
                target_regions=regions,
                featured_products=products,
            )
            created += 1
            if remind is not None and "mea" in regions:
                SessionReminder.objects.get_or_create(session=session, user=remind)
    return created
