"""What every ModelAdmin of the tracker builds on: read-only admins for records that only
the application's services may write (docs/permissions.md, "Django admin"); and the
admin of authenticator devices, which never shows their keys."""

from django.contrib import admin
from django.http import HttpRequest
from django_otp.plugins.otp_totp.models import TOTPDevice


class ReadOnlyAdmin(admin.ModelAdmin):
    """Lists and shows rows; nobody, superusers included, adds, changes or deletes them here.

    Clinical records are written by their services (validation, amendments, audit trail,
    outbox events); a form in the admin would bypass all of that.
    """

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


class ReadOnlyInline:
    """Mixin for inlines of a read-only admin."""

    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


# Authenticator devices: who has one, never the key (it would let the reader make codes).
# A superuser deletes a lost device; its owner then enrols a new one.
if admin.site.is_registered(TOTPDevice):
    admin.site.unregister(TOTPDevice)


@admin.register(TOTPDevice)
class TOTPDeviceAdmin(ReadOnlyAdmin):
    list_display = ["user", "name", "confirmed", "created_at", "last_used_at"]
    fields = ["user", "name", "confirmed", "created_at", "last_used_at"]

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return request.user.is_superuser
