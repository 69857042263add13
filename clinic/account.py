"""The two-factor page: enrol an authenticator app (QR code), then give its code."""

import base64

import segno
from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_http_methods
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from audit.models import Action
from audit.services import audit_record
from core.twofactor import HAS_DEVICE, policy_applies


class CodeForm(forms.Form):
    code = forms.CharField(label="Code", max_length=8, widget=forms.TextInput(attrs={
        "autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}))


def _next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or "/"
    safe = url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure())
    return target if safe else "/"


@require_http_methods(["GET", "POST"])
def two_factor(request: HttpRequest) -> HttpResponse:
    user = request.user
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    enrolling = device is None
    if enrolling:
        device = (TOTPDevice.objects.filter(user=user, confirmed=False).first()
                  or TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=False))
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if device.verify_token(form.cleaned_data["code"].strip()):
            if enrolling:
                device.confirmed = True
                device.save(update_fields=["confirmed"])
                audit_record(action=Action.UPDATE, obj=user, changes={"two_factor": "enrolled"})
                messages.success(request, "Two-factor authentication is on for your account.")
            otp_login(request, device)
            request.session[HAS_DEVICE] = True
            return redirect(_next(request))
        form.add_error("code", "That code is not right (or has expired): try the current one.")
    context = {"form": form, "enrolling": enrolling, "required": policy_applies(user),
               "next": _next(request), "verified": user.is_verified()}
    if enrolling:
        context["qr"] = mark_safe(segno.make(device.config_url).svg_inline(scale=4))  # noqa: S308 — our own SVG
        context["secret"] = base64.b32encode(device.bin_key).decode()
    return render(request, "registration/two_factor.html", context)
