from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from .models import User


@admin.register(User)
class GisportalUserAdmin(UserAdmin):
    fieldsets = (*UserAdmin.fieldsets, ("Rola / role", {"fields": ("role", "licence_no")}))
    list_display = ("username", "email", "first_name", "last_name", "role", "is_active")
    list_filter = ("role", "is_active", "is_staff")
