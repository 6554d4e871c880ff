"""`{% delivery_facts d as f %}`: what the clerk's block on the case page shows of a delivery beyond its
fields (the day it will be deemed delivered, the period's end, the next steps of a paper letter, its
events in words): services/delivery/clerk.py."""

from __future__ import annotations

from django import template

from ..clerk import Facts
from ..clerk import delivery_facts as _facts

register = template.Library()


@register.simple_tag
def delivery_facts(d) -> Facts:
    return _facts(d)
