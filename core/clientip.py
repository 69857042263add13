"""The address of the person making a request, as the login throttle and the audit trail see it.

Behind the reverse proxy of docs/deployment.md every request comes from the proxy, which
names the client in a header (`X-Real-IP`). That header is believed only when the request
comes from a proxy listed in `TRUSTED_PROXIES`; anyone else could write it themselves.
"""

import ipaddress
from functools import cache

from django.conf import settings
from django.http import HttpRequest


@cache
def _networks(proxies: tuple[str, ...]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(p, strict=False) for p in proxies)


def _parse(value: str | None) -> str | None:
    try:
        return str(ipaddress.ip_address((value or "").strip()))
    except ValueError:
        return None


def is_trusted_proxy(address: str | None) -> bool:
    parsed = _parse(address)
    if parsed is None:
        return False
    ip = ipaddress.ip_address(parsed)
    return any(ip in net for net in _networks(tuple(settings.TRUSTED_PROXIES)))


def client_ip(request: HttpRequest) -> str | None:
    """The client's address: the proxy's header when a trusted proxy sent the request,
    the connection's address otherwise. The header may hold a chain (X-Forwarded-For
    style); the proxy appends the address it saw last, so the last entry is taken."""
    remote = _parse(request.META.get("REMOTE_ADDR"))
    if remote is not None and is_trusted_proxy(remote):
        header = request.META.get(settings.CLIENT_IP_HEADER, "")
        forwarded = _parse(header.split(",")[-1]) if header else None
        if forwarded is not None:
            return forwarded
    return remote
