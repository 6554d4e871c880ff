"""What each role may do, enforced server-side through Django's permission API.

`user.has_perm("gisportal.<capability>")` is answered here from the user's role; superusers may
everything. Views use `permission_required`, the OGC endpoints and APIs call `has_perm` directly.
Capabilities are plain strings so that every layer can ask without importing models.
"""

from __future__ import annotations

from django.contrib.auth.backends import ModelBackend
from django.utils.translation import gettext_lazy as _

from .models import Role

PREFIX = "gisportal."

# capability -> meaning
CAPABILITIES = {
    "view_public_layers": _("read public registry layers (WMS/WFS/OGC API, map)"),
    "submit_forms": _("file e-forms and follow own cases"),
    "view_restricted_layers": _("read restricted registry data (owners, KW numbers), logged"),
    "work_cases": _("clerk work on cases of own office"),
    "handle_payments": _("fee documents, transfers, refunds and payment differences of own office"),
    "register_paper_mail": _("register incoming paper mail"),
    "import_registries": _("start registry imports"),
    "notify_survey_work": _("file surveyors' work notifications"),
    "download_bulk": _("bulk downloads of registry layers"),
    "exchange_messages": _("send and receive office-to-office messages"),
}

ROLE_CAPABILITIES: dict[str, frozenset[str]] = {
    Role.CITIZEN: frozenset({"view_public_layers", "submit_forms"}),
    Role.SURVEYOR: frozenset({"view_public_layers", "submit_forms", "notify_survey_work", "download_bulk"}),
    Role.CLERK: frozenset(
        {
            "view_public_layers",
            "view_restricted_layers",
            "work_cases",
            "handle_payments",
            "register_paper_mail",
            "import_registries",
        }
    ),
    Role.GEODESIST: frozenset(
        {
            "view_public_layers",
            "view_restricted_layers",
            "import_registries",
            "download_bulk",
            "exchange_messages",
        }
    ),
    Role.OFFICE_SYSTEM: frozenset(
        {"view_public_layers", "submit_forms", "download_bulk", "exchange_messages"}
    ),
}


def capabilities_of(user) -> frozenset[str]:
    if not user or not user.is_active or not user.is_authenticated:
        return frozenset({"view_public_layers"})
    if user.is_superuser:
        return frozenset(CAPABILITIES)
    return ROLE_CAPABILITIES.get(user.role, frozenset())


class RoleBackend(ModelBackend):
    """Authentication as ModelBackend; permissions `gisportal.*` from the role table above."""

    def has_perm(self, user_obj, perm, obj=None):
        if perm.startswith(PREFIX):
            return perm[len(PREFIX) :] in capabilities_of(user_obj)
        return super().has_perm(user_obj, perm, obj)

    def get_all_permissions(self, user_obj, obj=None):
        base = super().get_all_permissions(user_obj, obj) if user_obj.is_active else set()
        return set(base) | {PREFIX + c for c in capabilities_of(user_obj)}
