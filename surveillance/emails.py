"""A small renderer for the email template triplets (STYLE.md, "Notifications").

`templates/emails/<name>-subject.txt`, `-body.txt`, `-body.html`. The alerts app is
building the shared `render_email` helper in alerts/notifications/; this local one does
the same job until the two are unified (see docs/surveillance.md).
"""

from dataclasses import dataclass

from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    text: str
    html: str


def render_email(name: str, context: dict) -> RenderedEmail:
    subject = render_to_string(f"emails/{name}-subject.txt", context)
    # A subject is one line: template whitespace and newlines would break the header.
    subject = " ".join(subject.split())
    return RenderedEmail(subject=subject, text=render_to_string(f"emails/{name}-body.txt", context),
                         html=render_to_string(f"emails/{name}-body.html", context))


def send_email(*, to: str, email: RenderedEmail) -> None:
    """Send one message; raises whatever the backend raises (the caller records it)."""
    message = EmailMultiAlternatives(subject=email.subject, body=email.text, to=[to])
    message.attach_alternative(email.html, "text/html")
    message.send(fail_silently=False)
