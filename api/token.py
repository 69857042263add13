"""API tokens: the endpoint that issues one (password, and a code where two-factor
authentication applies), the logout that revokes the token used, and the owner's page
listing their tokens (make one per client, revoke)."""

from django import forms
from django.contrib import messages
from django.contrib.auth import authenticate
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods
from django_otp import match_token
from drf_spectacular.utils import extend_schema
from knox.views import LogoutView
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from core.twofactor import needs_second_factor

from .auth import ExpiringTokenAuthentication
from .models import ApiToken
from .tokens import CLIENT_MAX_LENGTH, token_create, token_revoke


class TokenRequestSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=4096, trim_whitespace=False)
    client = serializers.CharField(max_length=CLIENT_MAX_LENGTH, required=False,
                                   default="API client",
                                   help_text="What will use the token; a new token for the same "
                                             "client replaces the old one.")
    otp_token = serializers.CharField(max_length=8, required=False, default="",
                                      help_text="The code of your authenticator app, when "
                                                "two-factor authentication applies to you.")


class TokenResponseSerializer(serializers.Serializer):
    token = serializers.CharField()
    client = serializers.CharField()
    expiry = serializers.DateTimeField()


class ObtainTokenView(APIView):
    """Exchange your username and password (and authenticator code, when two-factor
    authentication applies to you) for an API token for one client. Send it as
    `Authorization: Token <token>`; it expires (see `expiry`) and `POST /api/auth/logout/`
    revokes it."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(request=TokenRequestSerializer, responses={201: TokenResponseSerializer},
                   tags=["auth"])
    def post(self, request, *args, **kwargs):
        serializer = TokenRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        user = authenticate(request._request, username=data["username"], password=data["password"])
        if user is None:
            raise ValidationError({"non_field_errors": ["Unable to log in with the credentials given."]})
        if needs_second_factor(user) and not (data["otp_token"] and match_token(user, data["otp_token"])):
            raise ValidationError({"otp_token": ["A valid code of your authenticator app is required."]})
        token, raw = token_create(user=user, client=data["client"])
        return Response({"token": raw, "client": token.client, "expiry": token.expiry},
                        status=status.HTTP_201_CREATED)


class RevokeTokenView(LogoutView):
    """Revoke the token this request was made with."""

    authentication_classes = [ExpiringTokenAuthentication]

    @extend_schema(request=None, responses={204: None}, tags=["auth"])
    def post(self, request, format=None):
        token_revoke(user=request.user, token_key=request._auth.token_key)
        return Response(None, status=status.HTTP_204_NO_CONTENT)


class NewTokenForm(forms.Form):
    client = forms.CharField(label="Client", max_length=CLIENT_MAX_LENGTH,
                             help_text="What will use the token, e.g. “PACS bridge”. "
                                       "A new token for the same client replaces the old one.")


@require_http_methods(["GET", "POST"])
def token_page(request: HttpRequest) -> HttpResponse:
    """The signed-in user's API tokens: client, first characters, made, expires."""
    form = NewTokenForm()
    new_token = None
    if request.method == "POST" and request.POST.get("revoke"):
        if token_revoke(user=request.user, token_key=request.POST["revoke"][:16]):
            messages.success(request, "Token revoked: clients using it are refused from now on.")
        return redirect("api-tokens")
    if request.method == "POST":
        form = NewTokenForm(request.POST)
        if form.is_valid():
            token, new_token = token_create(user=request.user, client=form.cleaned_data["client"])
            form = NewTokenForm()
    tokens = ApiToken.objects.filter(user=request.user).order_by("client")
    return render(request, "api/tokens.html", {"tokens": tokens, "form": form, "new_token": new_token})
