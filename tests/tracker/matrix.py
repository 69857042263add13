"""The permission matrix: parse docs/permissions.md, walk the URL patterns, request them.

Shared by the matrix test and by `python -m tests.tracker.matrix` style tooling: the
matrix in the docs is the single source of truth, this module only reads it.
"""

import json
import re
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from .world import COLUMNS, World

DOC = Path(settings.BASE_DIR) / "docs" / "permissions.md"
ROW = re.compile(r"^\|\s*`(?P<name>[^`]+)`\s*\|\s*(?P<method>[A-Z]+)\s*\|(?P<cells>.*)\|\s*$")
ADMIN_NAMESPACE = "admin"


@dataclass(frozen=True)
class Route:
    name: str
    route: str
    methods: frozenset[str]  # methods the route must have a row for


def read_matrix(path: Path = DOC) -> dict[tuple[str, str], dict[str, int]]:
    """{(url name, METHOD): {column: expected status}} from the Markdown table."""
    matrix: dict[tuple[str, str], dict[str, int]] = {}
    for number, line in enumerate(path.read_text().splitlines(), 1):
        m = ROW.match(line)
        if not m:
            continue
        cells = [c.strip() for c in m["cells"].split("|")]
        if len(cells) != len(COLUMNS):
            raise AssertionError(f"{path.name}:{number}: expected {len(COLUMNS)} status cells, "
                                 f"got {len(cells)}")
        key = (m["name"], m["method"])
        if key in matrix:
            raise AssertionError(f"{path.name}:{number}: duplicate row for {key}")
        matrix[key] = {col: int(cell) for col, cell in zip(COLUMNS, cells, strict=True)}
    return matrix


def walk(resolver: URLResolver | None = None, prefix: str = "", namespace: str = ""):
    """Every URL pattern outside the Django admin: (qualified name or None, route, callback)."""
    resolver = resolver or get_resolver()
    for p in resolver.url_patterns:
        if isinstance(p, URLResolver):
            if p.app_name == ADMIN_NAMESPACE:
                continue  # Django admin internals: checked separately
            ns = namespace + (f"{p.namespace}:" if p.namespace else "")
            yield from walk(p, prefix + str(p.pattern), ns)
        elif isinstance(p, URLPattern):
            yield (namespace + p.name if p.name else None), prefix + str(p.pattern), p.callback


def routes() -> tuple[dict[str, Route], list[str]]:
    """Routes by URL name, and the routes that have no name (which the matrix cannot name)."""
    found: dict[str, Route] = {}
    unnamed: list[str] = []
    for name, route, callback in walk():
        if name is None:
            unnamed.append(route)
            continue
        actions = getattr(callback, "actions", None)  # DRF viewset routes: {method: action}
        # HEAD answers like GET (DRF adds it to `actions` on the first request), OPTIONS is
        # metadata: neither needs its own row.
        methods = ({m.upper() for m in actions} - {"HEAD", "OPTIONS"}) if actions else {"GET"}
        old = found.get(name)
        if old is not None:
            methods |= old.methods
        found[name] = Route(name, route, frozenset(methods))
    return found, unnamed


def missing_rows(matrix: dict[tuple[str, str], dict[str, int]]) -> list[str]:
    """What the matrix lacks (or lists in vain), one readable line each."""
    found, unnamed = routes()
    problems = [f"URL pattern {r!r} has no name, so the permission matrix cannot list it"
                for r in unnamed]
    for name, route in sorted(found.items()):
        for method in sorted(route.methods):
            if (name, method) not in matrix:
                problems.append(f"URL {name!r} ({route.route}) {method}: no row in "
                                "docs/permissions.md")
    for name, _method in sorted(matrix):
        if name not in found:
            problems.append(f"docs/permissions.md lists {name!r}, which is not a URL name")
    return problems


def url_kwargs(world: World, name: str, route: str) -> dict:
    """The URL arguments pointing at the world's objects of `site` for this URL name."""
    o = world.objects
    kwargs: dict = {}
    if "<uuid" in route or "(?P<uuid>" in route:
        if name in ("study-detail", "study-amend", "api-study-amend"):
            kwargs["uuid"] = o["final_study"].uuid
        elif name == "study-create":
            kwargs["uuid"] = world.patient.uuid
        elif name.startswith(("study-", "api-study-")):
            kwargs["uuid"] = o["draft_study"].uuid
        elif name == "worklist-biopsy":
            kwargs["uuid"] = o["biopsy"].uuid
        elif name.startswith(("worklist-", "api-schedule-")):
            kwargs["uuid"] = o["item"].uuid
        elif name == "letter-pdf":
            kwargs["uuid"] = o["letter"].uuid
        elif name.startswith("letter-batch"):
            kwargs["uuid"] = o["letter_batch"].uuid
        elif name.startswith("registry-upload"):
            kwargs["uuid"] = o["registry_upload"].uuid
        elif name.startswith("feed-"):
            kwargs["uuid"] = o["feed_message"].uuid
        else:
            kwargs["uuid"] = world.patient.uuid
    if "<int:pk>" in route or "(?P<pk>" in route:
        if "alert" in name:
            kwargs["pk"] = o["alert"].pk
        elif name.startswith("letter-template"):
            kwargs["pk"] = world.site.pk  # a site's letter template
        else:
            kind = name.removeprefix("patient-").removesuffix("-edit").removesuffix("-void")
            kwargs["pk"] = o[kind].pk
    if "(?P<record_id>" in route:  # the API's void of a patient's record
        kwargs.update(kind="surgeries", record_id=o["surgery"].pk)
    if "<str:token>" in route:
        kwargs["token"] = o["calendar_token"]
    return kwargs


def request(client: Client, method: str, url: str, *, api: bool):
    """One request, rolled back afterwards so every cell sees the same world."""
    with transaction.atomic():
        if api and method in ("POST", "PUT", "PATCH"):
            response = getattr(client, method.lower())(url, data=json.dumps({}),
                                                       content_type="application/json")
        else:
            response = getattr(client, method.lower())(url, data={} if method != "GET" else None)
        transaction.set_rollback(True)
    return response
