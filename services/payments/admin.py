"""Payments in the admin: read-only. Money changes only through the actions (the clerks' pages), which
keep the rules and the case timeline; fee documents are immutable in the database anyway."""

from django.contrib import admin

from .models import Attempt, Discrepancy, Event, MaterialRate, Payment


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class AttemptInline(admin.TabularInline):
    model = Attempt
    extra = 0
    fields = ("created_at", "provider", "session_id", "order_id", "amount", "status", "settled_at")
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Payment)
class PaymentAdmin(ReadOnly):
    list_display = ("document", "status", "amount", "paid_at", "paid_via")
    list_filter = ("status", "paid_via", "document__office")
    search_fields = ("document__number", "document__case_sign", "document__payer_name")
    inlines = [AttemptInline]


@admin.register(Event)
class EventAdmin(ReadOnly):
    list_display = ("received_at", "provider", "event_id", "outcome", "remote_addr")
    list_filter = ("provider", "outcome")


@admin.register(Discrepancy)
class DiscrepancyAdmin(ReadOnly):
    list_display = ("found_at", "kind", "office", "detail", "resolved_at")
    list_filter = ("kind", "office", "resolved_at")


@admin.register(MaterialRate)
class MaterialRateAdmin(admin.ModelAdmin):
    """The county's rates are configuration: the administrator adds next year's rates as new rows (a
    fee already issued keeps its amounts; fee documents are immutable)."""

    list_display = ("office", "material", "label", "unit", "base_rate", "coefficient", "valid_from")
    list_filter = ("office", "material", "unit")
    ordering = ("office", "material", "-valid_from")
