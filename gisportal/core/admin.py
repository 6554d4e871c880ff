from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from .actions import api_keys_revoke
from .models import ApiKey, FailedTask, User


@admin.register(User)
class GisportalUserAdmin(UserAdmin):
    fieldsets = (
        *UserAdmin.fieldsets,
        ("Rola / role", {"fields": ("role", "licence_no")}),
        ("login.gov.pl", {"fields": ("pesel", "birth_date", "identity_loa", "identity_verified_at")}),
    )
    readonly_fields = ("pesel", "birth_date", "identity_loa", "identity_verified_at")
    list_display = ("username", "email", "first_name", "last_name", "role", "is_active")
    list_filter = ("role", "is_active", "is_staff")


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    """Keys are listed and revoked here; they are created with `gisportal api-key create`, which shows
    the key once. Only the prefix and the SHA-256 are stored, so no page can show a key again."""

    list_display = ("shown_prefix", "name", "user", "created_at", "last_used_at", "expires_at", "revoked_at")
    list_filter = ("revoked_at", "user__role")
    search_fields = ("prefix", "name", "user__username")
    fields = ("shown_prefix", "name", "user", "created_at", "last_used_at", "expires_at", "revoked_at")
    readonly_fields = ("shown_prefix", "user", "created_at", "last_used_at", "revoked_at")
    actions = ["revoke"]

    @admin.display(description=_("prefix"), ordering="prefix")
    def shown_prefix(self, obj):
        return f"gp_{obj.prefix}…"

    def has_add_permission(self, request):
        return False

    @admin.action(description=_("Revoke the selected API keys"))
    def revoke(self, request, queryset):
        count = api_keys_revoke(queryset)
        self.message_user(
            request,
            ngettext("%(n)d key revoked.", "%(n)d keys revoked.", count) % {"n": count},
            messages.SUCCESS,
        )


@admin.register(FailedTask)
class FailedTaskAdmin(admin.ModelAdmin):
    """Dead letters, read-only here (the staff send them again at /urzad/zadania/)."""

    list_display = ("failed_at", "task_name", "error", "retried_at", "retried_by")
    list_filter = ("task_name",)
    search_fields = ("task_name", "task_id", "error")
    readonly_fields = (
        "task_id",
        "task_name",
        "args",
        "error",
        "traceback",
        "failed_at",
        "retried_at",
        "retried_by",
    )

    def has_add_permission(self, request):
        return False
