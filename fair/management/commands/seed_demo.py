"""Load a small demo fair: the current edition, buyers from several time zones and an
organiser, with log-ins printed at the end. Safe to run again (nothing is duplicated)."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

# A composition root like fair/urls.py: the one fair module allowed to reach every app.
from buyers.models import BuyerProfile
from buyers.services import buyer_sign_up
from exhibitors.demo import demo_exhibitors_load
from fair.models import ORGANISERS_GROUP, Category, FairEdition, User
from fair.selectors import fair_edition_cache_clear
from livestream.demo import demo_sessions_load

DEMO_PASSWORD = "fair-demo-2026"  # noqa: S105 (printed demo log-in, refused outside DEBUG)

DEMO_BUYERS = [
    # email, name, company, country, type, time zone, language, interests (category slugs)
    (
        "anne@buyer.example",
        "Anne Martin",
        "Martin Import SARL",
        "FR",
        "importer",
        "Europe/Paris",
        "fr",
        ["electronics-appliances"],
    ),
    (
        "khalid@buyer.example",
        "Khalid Al-Harbi",
        "Riyadh Trading Co.",
        "SA",
        "wholesaler",
        "Asia/Riyadh",
        "ar",
        ["electronics-appliances", "lighting-electrical"],
    ),
    (
        "ivan@buyer.example",
        "Ivan Petrov",
        "Rostov Supply LLC",
        "RU",
        "importer",
        "Europe/Moscow",
        "ru",
        ["hardware-tools"],
    ),
    (
        "maria@buyer.example",
        "María López",
        "Tienda Global",
        "MX",
        "ecommerce",
        "America/Mexico_City",
        "es",
        ["consumer-goods"],
    ),
]


class Command(BaseCommand):
    help = "Load the demo fair (idempotent) and print its log-ins."

    def add_arguments(self, parser):
        parser.add_argument(
            "--allow-without-debug",
            action="store_true",
            help="Load demo accounts even with DEBUG off (never on a real deployment).",
        )

    @transaction.atomic
    def handle(self, *args, allow_without_debug: bool = False, **options):
        if not settings.DEBUG and not allow_without_debug:
            raise CommandError(
                "seed_demo creates accounts with a published password; it runs only with "
                "DJANGO_DEBUG=1 (or --allow-without-debug on a throw-away machine)."
            )
        # Demo approvals and invitations would print their emails: not for this console.
        settings.EMAIL_BACKEND = "django.core.mail.backends.dummy.EmailBackend"
        edition = self._edition()
        organiser = self._organiser()
        buyers = [self._buyer(*row) for row in DEMO_BUYERS]
        exhibitor_logins = demo_exhibitors_load(
            organiser=organiser, make_user=self._plain_user, password=DEMO_PASSWORD
        )
        sessions = demo_sessions_load(
            remind=User.objects.filter(email__iexact="khalid@buyer.example").first()
        )
        self._halls(edition)
        self._welcome(organiser)
        fair_edition_cache_clear()

        self.stdout.write(self.style.SUCCESS(f"Demo fair ready: {edition.name}"))
        self.stdout.write(f"  opens  {edition.starts_at:%Y-%m-%d %H:%M} UTC")
        self.stdout.write(f"  closes {edition.ends_at:%Y-%m-%d %H:%M} UTC")
        self.stdout.write(f"  {Category.objects.count()} categories and sections")
        self.stdout.write(f"  {sessions} live sessions scheduled")
        self.stdout.write(f"Log-ins (password for all: {DEMO_PASSWORD})")
        self.stdout.write(f"  organiser  {organiser.email}")
        for user in buyers:
            self.stdout.write(f"  buyer      {user.email}  ({user.time_zone})")
        for email, what in exhibitor_logins:
            self.stdout.write(f"  exhibitor  {email}  ({what})")

    def _halls(self, edition: FairEdition) -> None:
        """Two halls of the demo edition, each hosting the sections of some categories."""
        from fair.models import Hall

        layout = {
            ("11.1", "Electronics"): ["electronics-appliances"],
            ("12.2", "Lighting"): ["lighting-electrical"],
        }
        for (code, name), parents in layout.items():
            hall, _ = Hall.objects.get_or_create(
                edition=edition, code=code, defaults={"name": name}
            )
            hall.sections.set(Category.objects.filter(parent__slug__in=parents))

    def _welcome(self, organiser: User) -> None:
        """A standing announcement to everyone (published through the service, audited)."""
        from fair.announcements import announcement_publish
        from fair.models import Announcement

        title = "Welcome to the CloudFair demo edition"
        if not Announcement.objects.filter(title=title).exists():
            announcement_publish(
                actor=organiser,
                title=title,
                body="Live sessions run around the clock; press “One-to-one negotiation” to talk "
                "business privately with any exhibitor.",
            )

    def _edition(self) -> FairEdition:
        # Ten days, 24 hours a day, opened yesterday so the demo fair is running now.
        today = timezone.now().replace(hour=0, minute=0, second=0, microsecond=0)
        starts = today - timedelta(days=1)
        edition, _ = FairEdition.objects.update_or_create(
            slug="demo-fair",
            defaults={
                "name": "CloudFair Demo Edition",
                "starts_at": starts,
                "ends_at": starts + timedelta(days=10),
                "time_zone": "Asia/Shanghai",
            },
        )
        return edition

    def _organiser(self) -> User:
        user = User.objects.filter(email__iexact="organiser@cloudfair.example").first()
        if user is None:
            user = User.objects.create_user(
                email="organiser@cloudfair.example",
                password=DEMO_PASSWORD,
                full_name="Olivia Organiser",
                time_zone="Asia/Shanghai",
                is_staff=True,
            )
        group, _ = Group.objects.get_or_create(name=ORGANISERS_GROUP)
        user.groups.add(group)
        return user

    def _plain_user(self, email: str, full_name: str) -> User:
        user = User.objects.filter(email__iexact=email).first()
        if user is None:
            user = User.objects.create_user(
                email=email,
                password=DEMO_PASSWORD,
                full_name=full_name,
                time_zone="Asia/Shanghai",
                language="en",
            )
        return user

    def _buyer(self, email, name, company, country, buyer_type, zone, language, slugs) -> User:
        user = User.objects.filter(email__iexact=email).first()
        if user is not None and BuyerProfile.objects.filter(user=user).exists():
            return user
        user = buyer_sign_up(
            email=email,
            password=DEMO_PASSWORD,
            full_name=name,
            company=company,
            country=country,
            buyer_type=buyer_type,
            interests=Category.objects.filter(slug__in=slugs),
            show_identity_in_rooms=True,
            language=language,
        )
        user.time_zone = zone
        user.save(update_fields=["time_zone"])
        return user
