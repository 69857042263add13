"""Making and revoking API tokens (the token page and the token endpoint)."""

from datetime import timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from knox.settings import knox_settings

from audit.models import Action
from audit.services import audit_record

from .models import ApiToken

CLIENT_MAX_LENGTH = ApiToken._meta.get_field("client").max_length


@transaction.atomic
def token_create(*, user: AbstractBaseUser, client: str,
                 ttl: timedelta | None = None) -> tuple[ApiToken, str]:
    """A new token for `client`, replacing the client's older one (one per client).
    Returns the row and the token, which is not stored and cannot be shown again."""
    client = client.strip()[:CLIENT_MAX_LENGTH] or "API client"
    replaced = ApiToken.objects.filter(user=user, client=client).delete()[0]
    token, raw = ApiToken.objects.create(user=user, client=client,
                                         expiry=ttl if ttl is not None else knox_settings.TOKEN_TTL)
    audit_record(action=Action.CREATE, actor=user,
                 changes={"api_token": {"client": client, "key": token.token_key,
                                        "expiry": token.expiry.isoformat() if token.expiry else None,
                                        "replaced": bool(replaced)}})
    return token, raw


def token_revoke(*, user: AbstractBaseUser, token_key: str) -> int:
    """Revoke the user's token(s) starting with `token_key`; returns how many."""
    tokens = list(ApiToken.objects.filter(user=user, token_key=token_key))
    for token in tokens:
        audit_record(action=Action.DELETE, actor=user,
                     changes={"api_token": {"client": token.client, "key": token.token_key}})
        token.delete()
    return len(tokens)
