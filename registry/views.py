"""Registry import for administrators: upload, checked by a task, report, confirm, imported.

The uploaded file is stored with a `RegistryUpload` row; a Celery task checks it (dry run)
and, once the administrator confirms, imports it (registry/uploads.py). The upload's page
polls a small JSON status (stage and row counts, nothing about patients) while the task
runs. URLs name the upload by its random UUID.
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.permissions import can_import_registry
from patients.access import sites_for

from .forms import RegistryUploadForm
from .importer import decode_upload
from .models import RegistryUpload
from .uploads import upload_confirm, upload_queue, uploads_delete_stale


def _require_importer(request: HttpRequest) -> None:
    if not can_import_registry(request.user):
        raise PermissionDenied("Only administrators import registry files.")


def _own_upload(request: HttpRequest, uuid) -> RegistryUpload:
    """The upload, if this administrator made it (404 otherwise)."""
    _require_importer(request)
    return get_object_or_404(RegistryUpload, uuid=uuid, uploaded_by=request.user)


@require_http_methods(["GET", "POST"])
def registry_import(request: HttpRequest) -> HttpResponse:
    _require_importer(request)
    sites = sites_for(request.user)
    form = RegistryUploadForm(sites=sites)
    if request.method == "POST":
        form = RegistryUploadForm(request.POST, request.FILES, sites=sites)
        if form.is_valid():
            upload_file = form.cleaned_data["file"]
            try:
                decode_upload(upload_file.read())
            except ValueError as exc:
                form.add_error("file", str(exc))
            else:
                upload_file.seek(0)
                uploads_delete_stale()
                upload = RegistryUpload(uploaded_by=request.user, site=form.cleaned_data["site"],
                                        allowed_sites=sorted(sites.values_list("code", flat=True)))
                upload.file.save("upload.csv", upload_file, save=False)
                upload.save()
                upload_queue(upload)
                return redirect("registry-upload", uuid=upload.uuid)
    return render(request, "registry/import.html", {"form": form})


@require_GET
def registry_upload(request: HttpRequest, uuid) -> HttpResponse:
    upload = _own_upload(request, uuid)
    return render(request, "registry/upload.html", {
        "upload": upload, "report": upload.report,
        "form": RegistryUploadForm(sites=sites_for(request.user)),
    })


@require_GET
def registry_upload_status(request: HttpRequest, uuid) -> JsonResponse:
    upload = _own_upload(request, uuid)
    return JsonResponse({"status": upload.status, "stage": upload.stage, "done": upload.done,
                         "total": upload.total, "finished": upload.finished})


@require_POST
def registry_upload_confirm(request: HttpRequest, uuid) -> HttpResponse:
    upload = _own_upload(request, uuid)
    if not upload_confirm(upload):
        messages.error(request, "This file is not checked and waiting: upload it again.")
    return redirect("registry-upload", uuid=upload.uuid)
