"""Reads of deliveries: the addressee's inbox, one delivery for its addressee only, a case's deliveries."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils import timezone

from . import rules
from .models import Channel, Delivery, Status


def inbox_of(user) -> QuerySet[Delivery]:
    """The deliveries addressed to this account through the portal, newest first."""
    if not getattr(user, "is_authenticated", False):
        return Delivery.objects.none()
    return (
        Delivery.objects.filter(addressee_user=user, channel=Channel.PORTAL)
        .exclude(status=Status.PREPARED)
        .select_related("office")
        .order_by("-arrived_at", "-created_at")
    )


def delivery_of_addressee(user, delivery_id) -> Delivery | None:
    """The delivery when this user is its addressee (None for anyone else: the page answers 404)."""
    return inbox_of(user).filter(pk=delivery_id).first()


def deliveries_of_case(case_id: int) -> list[Delivery]:
    return list(Delivery.objects.filter(case_id=case_id).order_by("created_at").prefetch_related("events"))


def deliveries_of_source(source: str) -> list[Delivery]:
    return list(Delivery.objects.filter(source=source))


def held_back(source: str, user) -> Delivery | None:
    """The portal delivery that keeps a document closed until its addressee acknowledges receipt (None:
    nothing holds it back, e.g. delivered already or delivered another way)."""
    return (
        Delivery.objects.filter(source=source, channel=Channel.PORTAL, addressee_user=user)
        .exclude(status=Status.DELIVERED)
        .first()
    )


def deemed_on(d: Delivery):
    """The day the delivery will be deemed delivered if nobody opens it (None when not known yet)."""
    return rules.deemed_on(
        d.channel,
        arrived_on=timezone.localdate(d.arrived_at) if d.arrived_at else None,
        first_notice_on=d.first_notice_on,
    )


def unread_count(user) -> int:
    return inbox_of(user).filter(status=Status.AWAITING).count()
