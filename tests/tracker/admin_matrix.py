"""The Django admin's matrix: parse docs/permissions.md's admin table, find an object for
each registered model, request its admin pages."""

import re
from pathlib import Path

from django.conf import settings
from django.contrib import admin
from django.db import transaction
from django.test import Client
from django.urls import reverse

DOC = Path(settings.BASE_DIR) / "docs" / "permissions.md"
ROW = re.compile(r"^\|\s*`(?P<model>[a-z_]+\.[a-z_]+)`\s*\|(?P<cells>.*)\|\s*$")
ACTIONS = ("list", "view", "add", "edit", "delete")


def read_admin_matrix(path: Path = DOC) -> dict[str, dict[str, int]]:
    """{app_label.model: {action: status for the admin role}} from the admin table."""
    text = path.read_text()
    section = text[text.index("### Admin matrix"):]
    section = section[:section.index("\n## ")] if "\n## " in section else section
    matrix = {}
    for line in section.splitlines():
        m = ROW.match(line)
        if m:
            cells = [c.strip() for c in m["cells"].split("|")]
            assert len(cells) == len(ACTIONS), line
            matrix[m["model"]] = {a: int(c) for a, c in zip(ACTIONS, cells, strict=True)}
    return matrix


def registered() -> dict[str, type]:
    return {f"{m._meta.app_label}.{m._meta.model_name}": m for m in admin.site._registry}


def urls(label: str, obj) -> dict[str, tuple[str, str]]:
    """{action: (method, url)}; object actions are None without an object."""
    app, model = label.split(".")
    out = {"list": ("GET", reverse(f"admin:{app}_{model}_changelist")),
           "add": ("GET", reverse(f"admin:{app}_{model}_add"))}
    if obj is not None:
        out["view"] = ("GET", reverse(f"admin:{app}_{model}_change", args=[obj.pk]))
        out["edit"] = ("POST", reverse(f"admin:{app}_{model}_change", args=[obj.pk]))
        out["delete"] = ("POST", reverse(f"admin:{app}_{model}_delete", args=[obj.pk]))
    return out


def call(client: Client, method: str, url: str):
    with transaction.atomic():
        if method == "GET":
            response = client.get(url)
        else:  # an empty form: refused (403) or shown again with its errors (200)
            response = client.post(url, {"post": "yes"} if url.endswith("/delete/") else {})
        transaction.set_rollback(True)
    return response
