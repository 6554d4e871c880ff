from django.contrib import admin

from .models import Office, OfficeUnit, StaffMembership


class OfficeUnitInline(admin.TabularInline):
    model = OfficeUnit
    extra = 0


@admin.register(Office)
class OfficeAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "jurisdiction_teryt", "city", "active")
    inlines = [OfficeUnitInline]


@admin.register(StaffMembership)
class StaffMembershipAdmin(admin.ModelAdmin):
    list_display = ("user", "office", "unit", "position")
    list_filter = ("office",)
