"""Notifications: one email helper for every template triplet, and the alert channel.

`render_email` / `send_email` are shared: the surveillance digests use them too.
"""

from .email import ChannelError, render_email, send_email

__all__ = ["ChannelError", "render_email", "send_email"]
