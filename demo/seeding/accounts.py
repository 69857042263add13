"""The two demo sites and one demo login per role (idempotent)."""

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, Group

from core import roles
from patients.models import Site

DEMO_PASSWORD = "demo-tracker-2026"
DEMO_SITES = (("north", "North Clinic"), ("south", "South Clinic"))


@dataclass(frozen=True)
class DemoLogin:
    username: str
    role: str
    site_code: str
    first_name: str
    last_name: str
    is_staff: bool = False


DEMO_LOGINS = (
    DemoLogin("staff", roles.CLINIC_STAFF, "north", "Sam", "Okafor"),
    DemoLogin("radiologist", roles.RADIOLOGIST, "north", "Ruth", "Alvarez"),
    DemoLogin("coordinator", roles.COORDINATOR, "north", "Chris", "Nakamura"),
    DemoLogin("admin", roles.ADMIN, "north", "Alex", "Brennan", is_staff=True),
    # Of the other site: shows that site scoping hides the North Clinic's patients.
    DemoLogin("radiologist2", roles.RADIOLOGIST, "south", "Rafael", "Moreau"),
    # The South Clinic's coordinator: every site's due items reach someone's digest.
    DemoLogin("coordinator2", roles.COORDINATOR, "south", "Dana", "Whitfield"),
)


def ensure_sites() -> dict[str, Site]:
    sites = {}
    for code, name in DEMO_SITES:
        site, _ = Site.objects.get_or_create(code=code, defaults={"name": name})
        sites[code] = site
    return sites


def ensure_logins(sites: dict[str, Site]) -> tuple[dict[str, AbstractBaseUser], list[str]]:
    """Create missing demo users; never reset an existing user's password.

    Returns the users by username and the usernames created by this run.
    """
    User = get_user_model()
    users, created = {}, []
    for login in DEMO_LOGINS:
        user = User.objects.filter(username=login.username).first()
        if user is None:
            user = User(username=login.username, first_name=login.first_name,
                        last_name=login.last_name, email=f"{login.username}@{login.site_code}.example",
                        is_staff=login.is_staff)
            user.set_password(DEMO_PASSWORD)
            user.save()
            created.append(login.username)
        # Adding what is already there changes nothing, so re-runs are harmless.
        user.groups.add(Group.objects.get(name=login.role))
        sites[login.site_code].members.add(user)
        users[login.username] = user
    return users, created
