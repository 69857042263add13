"""API tokens: hashed (django-rest-knox), expiring, revocable, one per client of a user."""

from django.db import models
from knox.models import AbstractAuthToken


class ApiToken(AbstractAuthToken):
    """A user's token for one client (a script, a PACS bridge). Only a SHA-512 digest is
    stored; the token itself is shown once, when it is made. Its first characters
    (`token_key`) name it on the owner's page."""

    client = models.CharField(max_length=100, help_text="What uses this token, e.g. 'PACS bridge'.")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "client"], name="one_token_per_client")]
        ordering = ["client"]

    def __str__(self) -> str:
        return f"{self.client} ({self.token_key}…)"
