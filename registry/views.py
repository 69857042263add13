"""Registry import for administrators: upload, dry run with the full report, confirm.

The uploaded file waits in REGISTRY_UPLOAD_DIR (named by a random token kept in the
session) between the dry run and the confirmation, and is deleted once imported.
"""

import secrets
import time
from pathlib import Path

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from core.permissions import can_import_registry
from patients.access import sites_for
from patients.models import Site

from .forms import RegistryUploadForm
from .importer import decode_upload, import_registry

SESSION_KEY = "registry_import"
STALE_SECONDS = 24 * 60 * 60  # checked files never confirmed are deleted after a day


def _upload_dir() -> Path:
    path = Path(settings.REGISTRY_UPLOAD_DIR)
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def _delete_stale_uploads() -> None:
    """Checked files hold patient data: do not keep the ones nobody confirmed."""
    cutoff = time.time() - STALE_SECONDS
    for old in _upload_dir().glob("*.csv"):
        if old.stat().st_mtime < cutoff:
            old.unlink(missing_ok=True)


def _codes(request: HttpRequest) -> set[str]:
    return set(sites_for(request.user).values_list("code", flat=True))


def _pending(request: HttpRequest) -> tuple[Path | None, Site | None]:
    pending = request.session.get(SESSION_KEY)
    if not pending:
        return None, None
    path = _upload_dir() / f"{pending['token']}.csv"
    site = sites_for(request.user).filter(pk=pending.get("site")).first()
    return (path if path.exists() else None), site


@require_http_methods(["GET", "POST"])
def registry_import(request: HttpRequest) -> HttpResponse:
    if not can_import_registry(request.user):
        raise PermissionDenied("Only administrators import registry files.")
    sites = sites_for(request.user)
    form = RegistryUploadForm(sites=sites)
    report = None
    if request.method == "POST" and "confirm" in request.POST:
        return _confirm(request)
    if request.method == "POST":
        form = RegistryUploadForm(request.POST, request.FILES, sites=sites)
        if form.is_valid():
            try:
                text = decode_upload(form.cleaned_data["file"].read())
            except ValueError as exc:
                form.add_error("file", str(exc))
            else:
                site = form.cleaned_data["site"]
                report = import_registry(text, dry_run=True, default_site=site,
                                         user=request.user, allowed_sites=_codes(request))
                if report.ok:
                    _delete_stale_uploads()
                    token = secrets.token_urlsafe(16)
                    path = _upload_dir() / f"{token}.csv"
                    path.write_text(text, encoding="utf-8")
                    path.chmod(0o600)
                    request.session[SESSION_KEY] = {"token": token,
                                                    "site": site.pk if site else None,
                                                    "name": form.cleaned_data["file"].name}
    return render(request, "registry/import.html", {"form": form, "report": report})


def _confirm(request: HttpRequest) -> HttpResponse:
    path, site = _pending(request)
    if path is None:
        messages.error(request, "There is no checked file waiting: upload it again.")
        return redirect("registry-import")
    report = import_registry(path.read_text(encoding="utf-8"), default_site=site,
                             user=request.user, allowed_sites=_codes(request), source="upload")
    if report.ok:
        path.unlink(missing_ok=True)
        request.session.pop(SESSION_KEY, None)
    return render(request, "registry/import.html",
                  {"form": RegistryUploadForm(sites=sites_for(request.user)), "report": report,
                   "imported": report.ok})
