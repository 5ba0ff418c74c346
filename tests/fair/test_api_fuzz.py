"""Schemathesis over every operation of the OpenAPI schema (SECURITY H1).

The schema is loaded from the Django WSGI handler in-process (no server) and every operation
is fuzzed as each role: anonymous, a buyer (party to the seeded negotiation room), the owner
of the exhibitor that owns the seeded booth, products, image, staff, import and room, and an
organiser. Requests carry the role's real session cookie and, for unsafe methods, the CSRF
cookie and header (CSRF is enforced exactly as in production: no test client shortcut).

Checks: not_a_server_error, status_code_conformance, response_schema_conformance,
ignored_auth, use_after_free. Every error answer must be documented in the schema
(``fair.api.schema``); a 500, an undocumented status or a body outside its schema fails.

Examples: ``FUZZ_EXAMPLES`` generated examples per operation per role (default 25, i.e. 100
per operation over the four roles on every PR run, plus schemathesis' explicit boundary
cases); the nightly job sets ``FUZZ_EXAMPLES=1000``. Generation is derandomized (a fixed
seed per operation) so a CI run is reproducible.

Database: pytest-django's ``db`` (one transaction per test). The WSGI calls run in this
thread on this connection, so they see the seeded rows; each example runs in a savepoint
that is rolled back, so every example starts from the same seeded state (a deleted product
is back for the next one). Django closes connections at the end of each request; as its
test client does, that signal is disconnected while the tests run."""

from __future__ import annotations

import os
from collections import Counter, defaultdict
from dataclasses import dataclass

import pytest
import schemathesis
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, transaction
from django.middleware.csrf import _get_new_csrf_string
from django.test import Client
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis import AuthContext
from schemathesis.checks import not_a_server_error
from schemathesis.generation.meta import TestPhase
from schemathesis.specs.openapi.checks import (
    ignored_auth,
    response_schema_conformance,
    status_code_conformance,
    use_after_free,
)

from exhibitors import services as exhibitor_services
from exhibitors.imports import import_job_start
from exhibitors.models import ExhibitorMember
from tests.conftest import _cache_clear
from tests.exhibitors.factories import add_member, jpeg_bytes, make_exhibitor, make_product
from tests.exhibitors.factories_api import publish_booth
from tests.factories import make_buyer, make_organiser
from tests.negotiations.nego_factories import make_quote, make_room, send

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "25"))
ROLES = ("anonymous", "buyer", "owner", "organiser")
# Schemathesis' explicit boundary examples (its "coverage" phase) are built once, at
# collection, with made-up path ids: beyond the operations without path ids they only reach
# "not found", and the input checks they exercise do not depend on the role. They run as
# anonymous and as the owner; the buyer and the organiser get the generated examples only
# (keeps the PR run near three minutes on two cores).
COVERAGE_SKIPPED_FOR = ("buyer", "organiser")
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    response_schema_conformance,
    ignored_auth,
    use_after_free,
]

APP = WSGIHandler()

schema = schemathesis.openapi.from_wsgi(
    "/api/schema/?format=json",
    APP,
    config=schemathesis.Config.from_dict(
        {
            "seed": 20260,
            "generation": {
                "max-examples": EXAMPLES,
                "deterministic": True,
                # The session cookie comes from SessionAuth for every example (the roles);
                # generated or removed session cookies would turn most examples anonymous.
                "with-security-parameters": False,
            },
        }
    ),
)


# --- The seeded world ---------------------------------------------------------------------


@dataclass
class World:
    users: dict
    #: Path parameter name -> ids of seeded objects the owner's company or the buyer owns.
    ids: dict


def _seed() -> World:
    organiser = make_organiser()
    exhibitor = make_exhibitor(name="Fuzz Appliances", organiser=organiser)
    owner = exhibitor.members.get(role=ExhibitorMember.Role.OWNER).user
    sales = add_member(exhibitor, ExhibitorMember.Role.SALES, full_name="Sam Sales")
    publish_booth(exhibitor)
    product = make_product(exhibitor)
    image = exhibitor_services.product_image_add(
        user=owner,
        product_id=product.pk,
        upload=SimpleUploadedFile("photo.jpg", jpeg_bytes(), content_type="image/jpeg"),
    )
    job = import_job_start(
        user=owner,
        exhibitor_id=exhibitor.pk,
        upload=SimpleUploadedFile("products.csv", b"sku,name,category\n", "text/csv"),
    )
    buyer = make_buyer(full_name="Anne Buyer", company="Anne Imports")
    room = make_room(exhibitor=exhibitor, buyer=buyer, product_id=product.pk)
    send(buyer, room, "Hello, is the fridge available in white?")
    quote_by_owner = make_quote(owner, room)
    make_room(exhibitor=exhibitor, buyer=make_buyer(full_name="Bob Buyer"))
    return World(
        users={"anonymous": None, "buyer": buyer, "owner": owner, "organiser": organiser},
        ids={
            "exhibitor_id": [exhibitor.pk],
            "slug": [exhibitor.slug],
            "product_id": [product.pk],
            "image_id": [image.pk],
            "member_id": [ExhibitorMember.objects.get(user=sales).pk],
            "job_id": [job.pk],
            "negotiation_id": [room.pk],
            "quote_id": [quote_by_owner.pk],
        },
    )


_world: World | None = None
#: The session key of the role under test (None: anonymous).
_session: str | None = None


@schema.auth(refresh_interval=None, retry_on=[])
class SessionAuth:
    """The role's session cookie, as schemathesis' explicit credentials: ``ignored_auth``
    then replays a successful call without it and with a wrong one, and expects 403."""

    def get(self, case, context):
        return _session

    def set(self, case, data, context):
        case.cookies = {**(case.cookies or {}), "sessionid": data}


@schema.hook
def flatmap_path_parameters(context, path_parameters):
    """Half the examples address the seeded objects (so the success and permission paths
    run, not only "not found"); the others keep the generated ids."""
    if _world is None or not path_parameters:
        return st.just(path_parameters)
    known = {
        name: st.sampled_from(_world.ids[name]) if name in _world.ids else st.just(value)
        for name, value in path_parameters.items()
    }
    return st.one_of(st.just(path_parameters), st.fixed_dictionaries(known))


#: (operation, role) -> status code -> calls, for the summary (``FUZZ_SUMMARY=1``).
STATS: dict[tuple[str, str], Counter] = defaultdict(Counter)
_role: str | None = None


@schema.hook
def after_call(context, case, response):
    STATS[(case.operation.label, _role)][response.status_code] += 1


# --- Fixtures -------------------------------------------------------------------------------


@pytest.fixture
def _in_process_requests():
    # What django.test.Client does: a request's end must not close the test's connection.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def world(db, _in_process_requests):
    global _world
    _world = _seed()
    yield _world
    _world = None


@pytest.fixture
def csrf(role, world):
    """Signs the role's user in (the session goes to ``SessionAuth``) and gives the CSRF
    cookie and header a browser sends with it."""
    global _session, _role
    _role = role
    user = world.users[role]
    if user is not None:
        client = Client()
        client.force_login(user)
        _session = client.cookies["sessionid"].value
    token = _get_new_csrf_string()
    yield {"csrftoken": token}, {"X-CSRFToken": token}
    _session = None


# --- The test -------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
@schema.parametrize()
# The fixtures are set up once per operation and role; each example is isolated by its own
# rolled-back savepoint and cache reset instead.
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_api_operation_conforms_for_role(case, role, csrf):
    cookies, headers = csrf
    if role in COVERAGE_SKIPPED_FOR and case.meta and case.meta.phase.name == TestPhase.COVERAGE:
        return
    if _session is not None and (case.cookies or {}).get("sessionid") != _session:
        # Explicit examples (schemathesis' coverage phase) are built once, when the tests
        # are collected, before any role signed in, and are shared by the roles: give a
        # copy the role's session.
        case = case.derive()
        schema.auth.set(case, AuthContext(operation=case.operation, app=APP))
    with transaction.atomic():
        # Throttle counters are per example: the fuzzer's pace is not what is tested here.
        _cache_clear()
        case.call_and_validate(cookies=cookies, headers=headers, checks=CHECKS)
        transaction.set_rollback(True)


def test_api_fuzz_covers_every_operation():
    """The fuzz test above runs over the whole schema: no operation is filtered out."""
    operations = {
        (result.ok().method.upper(), result.ok().path) for result in schema.get_all_operations()
    }
    assert len(operations) == 49
    assert ("GET", "/api/v1/negotiations/figures/") in operations


@pytest.fixture(scope="module", autouse=True)
def _summary():
    yield
    if os.environ.get("FUZZ_SUMMARY"):
        for (operation, role), codes in sorted(STATS.items()):
            print(f"{operation:70} {role:10} {sum(codes.values()):4} {dict(sorted(codes.items()))}")
