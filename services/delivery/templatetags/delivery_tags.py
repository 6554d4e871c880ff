"""The menu's link to the inbox with the number of documents awaiting their addressee's confirmation
(`{% load delivery_tags %}{% unread_deliveries %}` in web/base.html, for logged-in users)."""

from __future__ import annotations

import logging

from django import template
from django.db import DatabaseError
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from .. import selectors

register = template.Library()
log = logging.getLogger(__name__)


@register.simple_tag(takes_context=True)
def unread_deliveries(context) -> str:
    """The menu item "Inbox", with "(n unopened)" when documents await confirmation; nothing when logged out."""
    request = context.get("request")
    user = getattr(request, "user", None) or context.get("user")
    if not getattr(user, "is_authenticated", False):
        return ""
    try:
        count = selectors.unread_count(user)
    except DatabaseError:  # an error page rendered while the database is away still renders
        log.warning("unread deliveries not counted", exc_info=True)
        count = 0
    url = reverse("delivery_inbox")
    if not count:
        return format_html('<li><a href="{}" data-testid="menu-inbox">{}</a></li>', url, _("Inbox"))
    return format_html(
        '<li><a href="{}" data-testid="menu-inbox">{} <span class="count">({}<span class="visually-hidden"> {}'
        "</span>)</span></a></li>",
        url,
        _("Inbox"),
        count,
        ngettext("unopened", "unopened", count),
    )
