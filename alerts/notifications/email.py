"""Email as template triplets: `templates/emails/<name>-subject.txt`, `-body.txt`, `-body.html`.

Subjects never carry patient details (names, MRN, date of birth); bodies link to pages
by URLs without patient details.
"""

import smtplib
from collections.abc import Sequence

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string


class ChannelError(Exception):
    """A message could not be delivered. Permanent errors are not retried."""

    def __init__(self, message: str, permanent: bool = False):
        super().__init__(message)
        self.message = message
        self.permanent = permanent


def render_email(name: str, context: dict) -> tuple[str, str, str]:
    """(subject, text body, html body) of the triplet `emails/<name>-*`."""
    context = {"site_url": settings.SITE_URL.rstrip("/"), **context}
    # Header injection and stray template newlines: a subject is one line.
    subject = " ".join(render_to_string(f"emails/{name}-subject.txt", context).split())
    text = render_to_string(f"emails/{name}-body.txt", context)
    html = render_to_string(f"emails/{name}-body.html", context)
    return subject, text, html


def send_email(name: str, context: dict, to: Sequence[str]) -> None:
    """Render and send one message to `to`; raises `ChannelError` when it cannot be sent.

    Refused recipients are permanent failures; anything else (server down, timeouts) is
    transient and worth retrying.
    """
    subject, text, html = render_email(name, context)
    message = EmailMultiAlternatives(subject, text, settings.DEFAULT_FROM_EMAIL, list(to))
    message.attach_alternative(html, "text/html")
    try:
        message.send(fail_silently=False)
    except smtplib.SMTPRecipientsRefused as exc:
        raise ChannelError(f"recipient refused: {_short(exc)}", permanent=True) from exc
    except (smtplib.SMTPException, OSError) as exc:
        raise ChannelError(f"{type(exc).__name__}: {_short(exc)}") from exc


def _short(exc: Exception) -> str:
    return str(exc)[:200]
