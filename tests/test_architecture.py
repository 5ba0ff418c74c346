"""Import directions between the apps (DESIGN.md, "Top-level layout").

``fair <- exhibitors <- buyers``, ``exhibitors <- livestream``, ``negotiations`` may use all
of them and nothing imports ``negotiations``. Domain modules (models, services, selectors,
tasks) never import views, api, forms or consumers. Every ``import`` statement counts,
including the ones inside functions and under ``if TYPE_CHECKING``."""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parents[1]
APPS = ("fair", "exhibitors", "buyers", "livestream", "negotiations")
ALLOWED_APP_IMPORTS = {
    "fair": frozenset(),
    "exhibitors": frozenset({"fair"}),
    "buyers": frozenset({"fair", "exhibitors"}),
    "livestream": frozenset({"fair", "exhibitors"}),
    "negotiations": frozenset({"fair", "exhibitors", "buyers", "livestream"}),
}
# The project wiring mounts every app's URLs, consumers and settings: it may import anything.
# seed_demo loads a demo fair into every app and is declared a composition root in its source.
WIRING_MODULES = (
    "fair.urls",
    "fair.asgi",
    "fair.routing",
    "fair.settings",
    "fair.management.commands.seed_demo",
)
DOMAIN_MODULES = frozenset({"models", "services", "selectors", "tasks"})
INTERFACE_MODULES = frozenset({"views", "api", "forms", "consumers"})


@dataclass(frozen=True, order=True)
class Violation:
    path: str
    line: int
    imported: str
    rule: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line} imports {self.imported} ({self.rule})"


def module_name(path: str) -> str:
    parts = list(Path(path).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


@dataclass(frozen=True)
class ImportStatement:
    """One import statement. ``module`` is what it names (``a.b`` in ``import a.b`` and in
    ``from a.b import c``); ``loads`` is every dotted name it may load (``c`` in
    ``from a.b import c`` may be a module, so ``a.b.c`` is in it too)."""

    line: int
    module: str
    loads: tuple[str, ...]

    @property
    def shown(self) -> str:
        """The name a report shows: ``buyers.models`` for ``from buyers import models``."""
        if "." in self.module or len(self.loads) < 2:
            return self.module
        return self.loads[1]


def import_statements(source: str, path: str) -> list[ImportStatement]:
    """Every import statement of ``source``, relative imports resolved against the file's
    package."""
    module = module_name(path)
    is_package = Path(path).name == "__init__.py"
    package = module.split(".") if is_package else module.split(".")[:-1]
    statements: list[ImportStatement] = []
    for node in ast.walk(ast.parse(source, filename=path)):
        if isinstance(node, ast.Import):
            statements.extend(
                ImportStatement(node.lineno, alias.name, (alias.name,)) for alias in node.names
            )
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)]
                origin = ".".join([*base, *(node.module.split(".") if node.module else [])])
            else:
                origin = node.module or ""
            loads = tuple(f"{origin}.{alias.name}" for alias in node.names if alias.name != "*")
            statements.append(ImportStatement(node.lineno, origin, (origin, *loads)))
    return statements


def is_wiring(module: str) -> bool:
    return any(module == w or module.startswith(f"{w}.") for w in WIRING_MODULES)


def is_domain_module(module: str) -> bool:
    return any(part in DOMAIN_MODULES for part in module.split(".")[1:])


def check_source(source: str, path: str) -> list[Violation]:
    """The import rules ``source`` (the file at ``path``, relative to the project) breaks."""
    module = module_name(path)
    app = module.split(".")[0]
    if app not in APPS or is_wiring(module):
        return []
    violations: list[Violation] = []
    for statement in import_statements(source, path):
        target_app = statement.module.split(".")[0]
        if target_app not in APPS:
            continue
        if target_app != app and target_app not in ALLOWED_APP_IMPORTS[app]:
            if target_app == "negotiations":
                rule = "nothing imports negotiations"
            else:
                allowed = ", ".join(sorted(ALLOWED_APP_IMPORTS[app])) or "no other app"
                rule = f"{app} may import {allowed}"
            violations.append(Violation(path, statement.line, statement.shown, rule))
        if is_domain_module(module) and any(
            INTERFACE_MODULES & set(name.split(".")[1:]) for name in statement.loads
        ):
            violations.append(
                Violation(
                    path,
                    statement.line,
                    statement.shown,
                    "domain code never imports views/api/forms/consumers",
                )
            )
    return sorted(violations)


def project_sources() -> list[str]:
    return sorted(
        str(path.relative_to(PROJECT_DIR))
        for app in APPS
        for path in (PROJECT_DIR / app).rglob("*.py")
    )


def project_violations() -> list[Violation]:
    violations: list[Violation] = []
    for path in project_sources():
        violations.extend(check_source((PROJECT_DIR / path).read_text(encoding="utf-8"), path))
    return violations


# --- The project ---


def test_architecture_scans_every_app():
    sources = project_sources()

    assert "fair/models.py" in sources
    assert "buyers/services.py" in sources
    assert {path.split("/")[0] for path in sources} >= {"fair", "buyers"}


def test_architecture_apps_import_only_in_allowed_directions():
    violations = [v for v in project_violations() if not v.rule.startswith("domain")]

    assert [str(v) for v in violations] == [], "\n".join(map(str, violations))


def test_architecture_nothing_imports_negotiations():
    violations = [v for v in project_violations() if v.rule == "nothing imports negotiations"]

    assert [str(v) for v in violations] == [], "\n".join(map(str, violations))


def test_architecture_domain_modules_never_import_interfaces():
    violations = [v for v in project_violations() if v.rule.startswith("domain")]

    assert [str(v) for v in violations] == [], "\n".join(map(str, violations))


# --- The checker itself ---


def test_check_source_upward_import_is_reported():
    source = "from negotiations.models import Negotiation\n"

    violations = check_source(source, "exhibitors/services.py")

    assert violations == [
        Violation(
            "exhibitors/services.py", 1, "negotiations.models", "nothing imports negotiations"
        )
    ]


def test_check_source_fair_importing_buyers_is_reported():
    source = "import os\n\ndef f():\n    import buyers.services\n"

    violations = check_source(source, "fair/selectors.py")

    assert violations == [
        Violation("fair/selectors.py", 4, "buyers.services", "fair may import no other app")
    ]


def test_check_source_livestream_importing_buyers_is_reported():
    source = "from buyers import models as buyer_models\n"

    violations = check_source(source, "livestream/views.py")

    assert [(v.line, v.imported, v.rule) for v in violations] == [
        (1, "buyers.models", "livestream may import exhibitors, fair")
    ]


def test_check_source_allowed_imports_are_not_reported():
    source = (
        "from fair.models import User\n"
        "from exhibitors.selectors import access_booth\n"
        "from . import models\n"
        "from django import forms\n"
    )

    assert check_source(source, "buyers/services.py") == []
    assert (
        check_source("from buyers.models import BuyerProfile\n", "negotiations/services.py") == []
    )


def test_check_source_wiring_modules_may_import_any_app():
    source = "from negotiations import views\nfrom buyers import views as buyer_views\n"

    assert check_source(source, "fair/urls.py") == []
    assert check_source(source, "fair/routing.py") == []
    assert check_source(source, "fair/settings/base.py") == []
    assert check_source(source, "fair/management/commands/seed_demo.py") == []


def test_check_source_other_fair_management_command_importing_buyers_is_reported():
    source = "from buyers.services import buyer_sign_up\n"

    violations = check_source(source, "fair/management/commands/other.py")

    assert [(v.imported, v.rule) for v in violations] == [
        ("buyers.services", "fair may import no other app")
    ]


def test_check_source_domain_module_importing_views_is_reported():
    source = "from exhibitors.views import booth_page\nfrom .forms import BoothForm\n"

    violations = check_source(source, "exhibitors/models.py")

    assert [(v.line, v.imported) for v in violations] == [
        (1, "exhibitors.views"),
        (2, "exhibitors.forms"),
    ]
    assert {v.rule for v in violations} == {"domain code never imports views/api/forms/consumers"}


def test_check_source_domain_module_relative_api_import_is_reported():
    violations = check_source("from . import api\n", "buyers/tasks.py")

    assert [(v.line, v.imported) for v in violations] == [(1, "buyers.api")]


def test_check_source_domain_package_importing_consumers_is_reported():
    source = "from ..consumers import LiveConsumer\n"

    violations = check_source(source, "livestream/services/chat.py")

    assert [v.imported for v in violations] == ["livestream.consumers"]


def test_check_source_interface_module_importing_forms_is_not_reported():
    source = "from fair.forms import UserPreferencesForm\nfrom fair.api import views\n"

    assert check_source(source, "fair/views.py") == []
