"""Sets the audit context for each request and records the patient records viewed."""

from django.http import HttpRequest, HttpResponse

from core.clientip import client_ip
from core.redaction import redact

from . import context
from .models import Action, AuditEvent

# Pages that show no patient's data: their reads are not recorded.
NO_PATIENT_DATA = frozenset({"login", "logout", "two-factor", "api-token", "api-logout",
                             "api-tokens", "api-schema", "api-docs", "worklist-calendar",
                             # a site's letter template, shown with a made-up sample patient
                             "letter-template-edit", "letter-template-preview"})


class AuditMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        ctx = context.AuditContext(request=request, ip=client_ip(request),
                                   path=redact(request.path))
        token = context.current.set(ctx)
        try:
            response = self.get_response(request)
            if request.method in ("GET", "HEAD") and response.status_code < 400:
                if ctx.viewed_patients:
                    self._record_views(ctx)
                elif response.status_code < 300:
                    self._record_list(request, ctx)
            self._record_admin(request, response, ctx)
            return response
        finally:
            context.current.reset(token)

    @staticmethod
    def _record_admin(request: HttpRequest, response: HttpResponse, ctx: context.AuditContext) -> None:
        """Every request to the Django admin by a signed-in user, whatever it did: the page,
        the method, the object and the answer (changes are also recorded by the model
        receivers and the services)."""
        match = getattr(request, "resolver_match", None)
        if match is None or match.namespace != "admin" or ctx.user is None:
            return
        AuditEvent.objects.create(
            actor_id=ctx.user.id, actor_username=ctx.user.username, action=Action.ADMIN,
            object_type="admin", object_id=str(match.kwargs.get("object_id", ""))[:64],
            changes={"view": match.view_name, "method": request.method,
                     "status": response.status_code},
            ip=ctx.ip, request_path=ctx.path[:300])

    @staticmethod
    def _record_list(request: HttpRequest, ctx: context.AuditContext) -> None:
        """A page or API read that named no single patient: a list, a search, an export,
        the dashboard. One event with the page and its query (filters, search words)."""
        match = getattr(request, "resolver_match", None)
        if (ctx.user is None or match is None or match.namespace == "admin"
                or match.view_name in NO_PATIENT_DATA):
            return
        query = {k: request.GET.getlist(k) for k in sorted(request.GET)}
        if ctx.search:
            query["q"] = [ctx.search]
        AuditEvent.objects.create(
            actor_id=ctx.user.id, actor_username=ctx.user.username, action=Action.LIST,
            object_type=match.view_name[:64], changes={"query": query},
            ip=ctx.ip, request_path=ctx.path[:300])

    @staticmethod
    def _record_views(ctx: context.AuditContext) -> None:
        if not ctx.viewed_patients or ctx.user is None:
            return
        AuditEvent.objects.bulk_create(
            AuditEvent(actor_id=ctx.user.id, actor_username=ctx.user.username,
                       action=Action.VIEW, object_type="patients.Patient", object_id=str(pid),
                       patient_id=pid, patient_uuid=puuid, ip=ctx.ip,
                       request_path=ctx.path[:300])
            for pid, puuid in ctx.viewed_patients.items()
        )
