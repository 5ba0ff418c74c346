"""Fixtures for the browser tests: a real Daphne server, Debian's Chromium, and helpers.

How a browser test looks::

    pytestmark = pytest.mark.e2e

    def test_home_anonymous_shows_categories(visit, browser_problems):
        page = visit("/")
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        browser_problems.assert_none()

What the fixtures give a test (details in each docstring):

* ``daphne_server`` (session): ``fair.asgi:application`` served by Daphne in a subprocess
  on a free port of 127.0.0.1, on the *test* database and the test Redis key prefix.
* ``base_url`` (session): the server's URL, so ``page.goto("/accounts/login/")`` works.
* ``live_server_url`` (function): the same URL, and it pulls in pytest-django's
  ``transactional_db``. Every browser context depends on it (see ``new_context``), so every
  test that uses ``page``/``context`` runs on ``transactional_db`` without asking:
  - data the test creates through the ORM is *committed*, so the server sees it, and what
    the server writes (sign-ups, sessions) is visible to the test's asserts;
  - after the test the tables are emptied (TRUNCATE), including the rows data migrations
    loaded. ``reference_data`` (autouse here) loads those rows again before each test.
* ``visit(path)`` (function): ``page.goto(path)``, then waits for the first-visit time-zone
  report (static/fair/js/base.js POSTs the browser's zone and *reloads the page* once per
  browser session). Acting on the page before that reload races it; use ``visit`` for the
  first page of a test.
* ``browser_problems`` (function): collects console errors, uncaught page errors and failed
  requests of ``page``; ``browser_problems.assert_none()`` fails with all of them listed.

Chromium is Debian's /usr/bin/chromium (never a downloaded browser); if it is missing the
tests *fail* with a clear message (CI installs it; a skip would hide a broken CI image).

Run only these: ``pytest tests/e2e``; everything else: ``pytest -m "not e2e"``.
"""

from __future__ import annotations

import importlib
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.sync_api import ConsoleMessage, Page, Request, expect

from tests.e2e.liveserver import DaphneServer, ServerError, database_url

E2E_DIR = Path(__file__).resolve().parent
_SERVER_LOG_START = pytest.StashKey[tuple[DaphneServer, int]]()
CHROMIUM = Path("/usr/bin/chromium")
# Assertions wait for their condition up to 10 s (Playwright's default is 5): the browser
# shares 2 cores with Daphne, Celery, PostgreSQL and Redis, and a wait costs nothing once
# the condition holds. Checks of speed belong to bench/, not here.
expect.set_options(timeout=10_000)
CHROMIUM_ARGS = [
    "--no-sandbox",  # CI runs as root in a container: Chromium's sandbox cannot start there
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",  # no calls home: a test run needs no internet
    "--disable-component-update",
    "--disable-sync",
]


# --- Collection: mark and order -------------------------------------------------------------


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test under tests/e2e gets ``pytest.mark.e2e`` (so ``-m "not e2e"`` always works,
    even for a file that forgot ``pytestmark``), and the browser tests run *last*.

    Why last: pytest-playwright's session-scoped ``playwright`` fixture leaves its asyncio loop
    marked as running in the main thread from its start until the end of the session (its sync
    API works that way). Any test after it would see "a running event loop": Django's ORM
    refuses to run (SynchronousOnlyOperation) and pytest-asyncio cannot start its own loop.
    Running last after pytest-django's own ordering (trylast) keeps the rest of the suite
    unaffected. They are also the slowest tests, and they leave the database emptied."""
    e2e, others = [], []
    for item in items:
        if E2E_DIR in Path(str(item.path)).resolve().parents:
            item.add_marker(pytest.mark.e2e)
            e2e.append(item)
        else:
            others.append(item)
    items[:] = others + e2e


# --- Django inside Playwright's loop ----------------------------------------------------------


@pytest.fixture(scope="session", autouse=True)
def _allow_orm_under_playwright_loop() -> Iterator[None]:
    """Let the test code (and pytest-django's flushes) use Django's ORM.

    Playwright's sync API keeps its asyncio loop marked as running in this thread from the
    start of the ``playwright`` fixture to the end of the session, so Django's
    ``async_unsafe`` guard sees a running loop and raises SynchronousOnlyOperation for every
    query, although all the code involved is plain synchronous code. DJANGO_ALLOW_ASYNC_UNSAFE
    switches the guard off. (Side effect worth knowing: with a loop running, Django hands this
    thread a separate set of connection objects, see ``reference_data``.)

    It is set from the first browser test on (they run last, see
    ``pytest_collection_modifyitems``), not at this module's import, so the guard keeps
    protecting the rest of the suite. Session-wide rather than per test because pytest-django's
    ``django_db`` marker sets up (and flushes) the database before any function-scoped fixture
    of ours could set it. The Daphne server never gets it (``daphne_server`` drops it from the
    server's environment): the app's own code stays checked."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        yield


@pytest.fixture(scope="session")
def playwright(django_db_setup, playwright):  # (ordering only)
    """pytest-playwright's ``playwright``, made to start after the test database exists, so
    pytest stops it *before* pytest-django drops that database, whatever order the fixtures
    were first requested in: while it runs, Django code in this thread sees a running loop
    (see ``_allow_orm_under_playwright_loop`` and ``reference_data``), which the database
    teardown must not."""
    return playwright


# --- The live server --------------------------------------------------------------------------


@pytest.fixture(scope="session")
def daphne_server(
    django_db_setup,  # (the test database must exist, and outlive the server)
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[DaphneServer]:
    """Daphne serving ``fair.asgi:application`` (HTTP and websockets) for the whole session.

    Started as ``python -m daphne -b 127.0.0.1 -p <free port> fair.asgi:application`` in the
    project root, with ``fair.settings.test`` and:

    * DATABASE_URL = the *test* database pytest-django created (NAME read from the settings
      after ``django_db_setup`` has renamed it), same user, host and port;
    * REDIS_URL and REDIS_KEY_PREFIX = the test process's, so cache clears reach the server;
    * DJANGO_ALLOWED_HOSTS = 127.0.0.1,localhost.

    Waits up to 20 s for the port to answer; on failure the error quotes the server's output,
    which also goes to ``<pytest basetemp>/daphne*/daphne.log`` for a look after the run.
    Teardown: SIGTERM, then SIGKILL after 5 s. Because this fixture depends on
    ``django_db_setup``, pytest tears it down first: the server's database connections are
    gone before the test database is dropped.

    Use ``live_server_url`` (or just ``page``) in tests, not this fixture directly."""
    from django.conf import settings

    env = {key: value for key, value in os.environ.items() if not key.startswith("PYTEST_")}
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    env.update(
        DJANGO_SETTINGS_MODULE="fair.settings.test",
        DATABASE_URL=database_url(settings.DATABASES["default"]),
        REDIS_URL=settings.REDIS_URL,
        REDIS_KEY_PREFIX=settings.REDIS_KEY_PREFIX,
        DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
        PYTHONUNBUFFERED="1",
    )
    server = DaphneServer(env=env, log_path=tmp_path_factory.mktemp("daphne") / "daphne.log")
    try:
        server.start()
    except ServerError as exc:
        pytest.fail(str(exc), pytrace=False)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def base_url(daphne_server: DaphneServer) -> str:
    """pytest-playwright passes this to every browser context: relative URLs such as
    ``page.goto("/")`` and ``expect(page).to_have_url("/")`` go to the live server."""
    return daphne_server.url


@pytest.fixture
def live_server_url(
    request: pytest.FixtureRequest, transactional_db, daphne_server: DaphneServer
) -> str:
    """The live server's base URL (``http://127.0.0.1:<port>``, no trailing slash) for one
    test, on ``transactional_db`` (why: see the module docstring). Fails at once, with the
    server's output, if the server has died. If the test fails, its report gets a section
    "Daphne server output" with what the server logged during the test (tracebacks of 500s,
    the access log), see ``pytest_runtest_makereport``."""
    try:
        daphne_server.check_alive()
    except ServerError as exc:
        pytest.fail(str(exc), pytrace=False)
    request.node.stash[_SERVER_LOG_START] = (daphne_server, daphne_server.log_size())
    return daphne_server.url


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    """Attach the server's output during a failed browser test to its report: a page that
    shows "500 Internal Server Error" in the browser has its traceback only there."""
    report = yield
    start = item.stash.get(_SERVER_LOG_START, None)
    if start is not None and report.failed:
        server, offset = start
        report.sections.append(
            (f"Daphne server output ({report.when})", server.log_since(offset) or "(none)")
        )
    return report


@pytest.fixture
def new_context(live_server_url, new_context):  # (ordering only)
    """pytest-playwright's context factory, made to depend on ``live_server_url``.

    So every browser test gets the server and ``transactional_db``, and pytest closes the
    browser contexts *before* ``transactional_db`` empties the tables: no request of a page
    still open can run into the TRUNCATE. Context options per test:
    ``@pytest.mark.browser_context_args(timezone_id="Asia/Riyadh", locale="ar")``."""
    return new_context


# --- Rows loaded by data migrations ----------------------------------------------------------

# Data migrations whose rows the pages need, as (module, forward function). The functions are
# idempotent (update_or_create / get_or_create). Add new data migrations here.
REFERENCE_DATA_MIGRATIONS = [
    ("fair.migrations.0002_category_tree", "load_tree"),
    ("fair.migrations.0003_organisers_group", "create_group"),
]


@pytest.fixture(autouse=True)
def reference_data(request: pytest.FixtureRequest) -> None:
    """Reload the rows data migrations put in the database (category tree, organisers group).

    ``transactional_db`` empties every table after each test, migration-loaded rows included.
    pytest-django's ``serialized_rollback=True`` does NOT bring them back in browser tests
    (tried: the second test saw 0 categories). Django keeps database connections in a
    "thread-critical" asgiref Local, which switches to a separate context-local slot as soon as
    an event loop runs in the thread; once Playwright's loop is marked running, the test sees
    fresh connection objects without the serialized copy that ``django_db_setup`` stored on
    the old one, so nothing is restored (silently). Running the migrations' own idempotent
    forward functions against the current models works whatever the test order (~0.1 s)."""
    if "transactional_db" not in request.fixturenames:
        return
    request.getfixturevalue("transactional_db")
    from django.apps import apps

    for module_name, function_name in REFERENCE_DATA_MIGRATIONS:
        getattr(importlib.import_module(module_name), function_name)(apps, None)


# --- Chromium -------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict) -> dict:
    """Launch Debian's Chromium, headless (``--headed`` still works on a desktop).

    Playwright never downloads a browser here (no ``playwright install``): without
    ``executable_path`` it would look for its own build and fail. A missing /usr/bin/chromium
    fails the tests: CI installs it (``apt-get install chromium``)."""
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: the browser tests need Debian's Chromium. Install it with "
            "`apt-get install -y chromium` (do not run `playwright install`).",
            pytrace=False,
        )
    return {
        "headless": True,
        **browser_type_launch_args,
        "executable_path": str(CHROMIUM),
        "args": [*CHROMIUM_ARGS, *browser_type_launch_args.get("args", [])],
    }


# --- Page helpers ---------------------------------------------------------------------------


@pytest.fixture
def visit(page: Page) -> Callable[[str], Page]:
    """``visit(path)``: open ``path`` and wait until the page is settled; returns ``page``.

    On the first page of a browser session the server does not know the browser's time zone
    yet (``<body data-time-zone-source="fair">``); static/fair/js/base.js then POSTs
    ``Intl...timeZone`` to /preferences/time-zone/ and reloads. ``visit`` waits for the
    reloaded page (source "browser", or "profile" for a user with a zone of their own), so
    the test never types into a page that is about to be replaced. Later navigations in the
    same test do not report again: use ``page.goto`` for them. Fails at once if the page
    answers with an error status (the server's traceback is in the test report)."""

    def _visit(path: str) -> Page:
        response = page.goto(path)
        if response is not None and not response.ok:
            pytest.fail(
                f"GET {path} answered {response.status} {response.status_text}: visit() is for "
                "pages of the site (open error pages with page.goto).",
                pytrace=False,
            )
        expect(page.locator("body")).to_have_attribute(
            "data-time-zone-source", re.compile(r"^(browser|profile)$")
        )
        return page

    return _visit


@dataclass
class BrowserProblems:
    """What went wrong in the browser while a test ran."""

    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)

    def on_console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            location = message.location
            where = f" ({location.get('url')}:{location.get('lineNumber')})" if location else ""
            self.console_errors.append(f"{message.text}{where}")

    def on_page_error(self, error: Exception) -> None:
        self.page_errors.append(str(error))

    def on_request_failed(self, request: Request) -> None:
        # ERR_ABORTED: the page was left (a click navigated on) while this request was still
        # loading, e.g. a module script of the page being left. Not a failure of the app; a
        # real error (404, CSP block) also shows as a console error.
        if request.failure == "net::ERR_ABORTED":
            return
        self.failed_requests.append(f"{request.method} {request.url}: {request.failure}")

    def assert_none(self) -> None:
        problems = {
            "console errors": self.console_errors,
            "uncaught page errors": self.page_errors,
            "failed requests": self.failed_requests,
        }
        found = {name: items for name, items in problems.items() if items}
        assert not found, "The browser reported problems:\n" + "\n".join(
            f"{name}:\n  " + "\n  ".join(items) for name, items in found.items()
        )


@pytest.fixture
def browser_problems(page: Page) -> BrowserProblems:
    """Collects ``console`` messages of type error (CSP violations and failed resource loads
    show up here too), ``pageerror`` (uncaught exceptions) and ``requestfailed`` (network-level
    failures; an HTTP 4xx/5xx is not one, but the browser logs a console error for it) on
    ``page`` from the moment the fixture is requested. Request it before the first
    navigation, then call ``browser_problems.assert_none()``."""
    problems = BrowserProblems()
    page.on("console", problems.on_console)
    page.on("pageerror", problems.on_page_error)
    page.on("requestfailed", problems.on_request_failed)
    return problems
