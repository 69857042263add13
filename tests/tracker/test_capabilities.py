"""The capabilities of core/permissions.py are what docs/permissions.md says they are."""

import inspect
import re
from types import SimpleNamespace

import pytest
from django.contrib.auth.models import AnonymousUser, Group
from django.template import Context, Template
from django.urls import reverse

from core import permissions, roles
from core.permissions import Capabilities, UnknownCapability, can_act_on_alert
from tests.patients.factories import UserFactory

from .matrix import DOC

pytestmark = pytest.mark.django_db

ROLE_COLUMNS = (roles.CLINIC_STAFF, roles.RADIOLOGIST, roles.COORDINATOR, roles.ADMIN)
ROW = re.compile(r"^\|\s*`(?P<name>\w+)`\s*\|(?P<cells>(\s*(yes|no)\s*\|){4})")


def documented() -> dict[str, dict[str, bool]]:
    table: dict[str, dict[str, bool]] = {}
    for line in DOC.read_text().splitlines():
        m = ROW.match(line)
        if m:
            cells = [c.strip() == "yes" for c in m["cells"].strip(" |").split("|")]
            table[m["name"]] = dict(zip(ROLE_COLUMNS, cells, strict=True))
    return table


def user_capabilities() -> dict[str, object]:
    """Every public function of core.permissions that takes the user alone."""
    return {
        name: fn for name, fn in inspect.getmembers(permissions, inspect.isfunction)
        if fn.__module__ == permissions.__name__ and (name.startswith(("can_", "is_", "has_")))
        and list(inspect.signature(fn).parameters) == ["user"]
    }


def _user(role: str | None, **extra):
    user = UserFactory(username=f"u-{role or 'none'}-{'-'.join(extra)}", **extra)
    if role:
        user.groups.add(Group.objects.get_or_create(name=role)[0])
    return user


def test_every_capability_has_a_row_and_every_row_a_capability():
    assert set(documented()) == set(user_capabilities())


def test_each_role_has_the_capabilities_the_docs_give_it():
    table = documented()
    users = {role: _user(role) for role in ROLE_COLUMNS}
    wrong = [f"{name} for {role}: docs say {expected[role]}"
             for name, expected in table.items() for role in ROLE_COLUMNS
             if user_capabilities()[name](users[role]) != expected[role]]
    assert not wrong, "\n".join(wrong)


def test_no_role_and_anonymous_have_none_superuser_has_all():
    nobody, superuser = _user(None), _user(None, is_superuser=True)
    for name, capability in user_capabilities().items():
        assert capability(nobody) is False, name
        assert capability(AnonymousUser()) is False, name
        assert capability(superuser) is True, name


def test_templates_can_read_every_capability_of_the_user():
    in_templates = set(permissions.CAPABILITIES.values())
    assert in_templates == set(user_capabilities().values()) - {permissions.has_tracker_role}


def test_a_user_with_two_roles_has_both_sets():
    user = _user(roles.COORDINATOR)
    user.groups.add(Group.objects.get_or_create(name=roles.RADIOLOGIST)[0])
    assert permissions.can_sign_studies(user) and permissions.can_work_worklist(user)
    assert not permissions.can_edit_records(user)


@pytest.mark.parametrize("surveillance", [False, True])
def test_acting_on_an_alert_follows_its_kind(monkeypatch, surveillance):
    radiologist, coordinator = _user(roles.RADIOLOGIST), _user(roles.COORDINATOR)
    alert = SimpleNamespace(is_surveillance=surveillance)
    # Imaging alerts are the radiologists', surveillance alerts the coordinators'.
    assert can_act_on_alert(radiologist, alert) is not surveillance
    assert can_act_on_alert(coordinator, alert) is surveillance
    monkeypatch.setattr(permissions, "can_act_on_surveillance_alerts", lambda user: False)
    monkeypatch.setattr(permissions, "can_act_on_imaging_alerts", lambda user: False)
    assert not can_act_on_alert(coordinator, alert)
    # The kind decides which capability is asked.
    monkeypatch.setattr(permissions, "can_act_on_surveillance_alerts", lambda user: surveillance)
    monkeypatch.setattr(permissions, "can_act_on_imaging_alerts", lambda user: not surveillance)
    assert can_act_on_alert(coordinator, alert)


def test_templates_read_capabilities_and_refuse_unknown_names():
    radiologist = _user(roles.RADIOLOGIST)
    template = Template("{% if can.sign_studies %}sign{% endif %}{% if can.edit_records %}edit{% endif %}")
    assert template.render(Context({"can": Capabilities(radiologist)})) == "sign"
    with pytest.raises(UnknownCapability):
        Template("{% if can.sign_study %}x{% endif %}").render(Context({"can": Capabilities(radiologist)}))


def test_pages_get_can_from_the_context_processor(client):
    staff = _user(roles.CLINIC_STAFF)
    client.force_login(staff)
    response = client.get(reverse("patient-list"))
    assert response.context["can"].register_patients is True
    assert response.context["can"].sign_studies is False
