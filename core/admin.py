"""What every ModelAdmin of the tracker builds on: read-only admins for records that only
the application's services may write (docs/permissions.md, "Django admin")."""

from django.contrib import admin
from django.http import HttpRequest


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
