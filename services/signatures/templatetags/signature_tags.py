"""Filters for showing a stored signature report (services/signatures/report.py): its moments are ISO 8601
strings and its trust anchors short codes; these give the reader's local time and words."""

from __future__ import annotations

from datetime import UTC, datetime

from django import template
from django.utils import timezone
from django.utils.translation import gettext as _

register = template.Library()


@register.filter
def sig_time(value) -> datetime | None:
    """An ISO 8601 moment of a report as an aware local datetime (None when absent or not a moment), for
    Django's `date` filter: {{ s.signing_time|sig_time|date:"j E Y, H:i:s" }}."""
    if isinstance(value, datetime):
        moment = value
    else:
        try:
            moment = datetime.fromisoformat(str(value or "").strip().replace("Z", "+00:00"))
        except ValueError:
            return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return timezone.localtime(moment)


@register.filter
def anchor_words(anchor) -> str:
    """Where the trusted root of a chain comes from ("config", "tsl:PL", "office:<code>", "tsa"), in words."""
    anchor = str(anchor or "")
    if not anchor:
        return _("no trusted root")
    kind, _sep, rest = anchor.partition(":")
    if kind == "config":
        return _("a root certificate the portal is configured to trust")
    if kind == "tsl":
        return _("the trusted list of %(territory)s") % {"territory": rest or "?"}
    if kind == "office":
        return _("the seal certificate of the office %(code)s") % {"code": rest or "?"}
    if kind == "tsa":
        return _("the portal's timestamp authority")
    return anchor
