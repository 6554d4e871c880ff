"""Every harmonised INSPIRE feature type the services offer, theme by theme, in the order the WFS
capabilities list them. A theme module declares its `TYPES`; add it here."""

from __future__ import annotations

from . import ad, bu, cp
from .base import InspireType

TYPES: tuple[InspireType, ...] = (
    *cp.TYPES,
    *ad.TYPES,
    *bu.TYPES,
)


def by_typename(typename: str) -> InspireType | None:
    return next((t for t in TYPES if t.typename == typename), None)


def by_dataset(code: str) -> tuple[InspireType, ...]:
    """The types of one data set (the INSPIRE stored query's DataSetIdCode), in serving order."""
    return tuple(t for t in TYPES if t.dataset == code)
