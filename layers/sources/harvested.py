"""The harvested layers as catalogue entries (registered with `catalogue.set_extra_layers` at start-up):
each enabled HarvestedLayer that has been harvested at least once becomes a public layer in the group
`zrodla`, with its source and harvest time in its abstract and in `origin`/`harvested_at`. The list is
read from the database once per data version (a harvest bumps it), so a new or re-harvested layer is
served by every process without a restart."""

from __future__ import annotations

import threading

from layers.catalogue import Attribute, Layer

_lock = threading.Lock()
_cached: tuple[int, tuple[Layer, ...]] | None = None


def _entry(h) -> Layer | None:
    if not h.geometry_type:
        return None
    attrs = [Attribute("ID", "fid", title_pl="Identyfikator", title_en="Identifier")]
    for a in h.attributes or []:
        name = str(a.get("name", ""))
        if not name or name.upper() == "ID":
            continue
        attrs.append(Attribute(name, f"properties__{name}", str(a.get("type") or "string"), name, name))
    source = h.source
    when = h.harvested_at.strftime("%Y-%m-%d %H:%M UTC") if h.harvested_at else ""
    origin = f"{source.url} ({source.get_kind_display()}: {h.remote_name})"
    return Layer(
        name=h.name,
        group="zrodla",
        title_pl=h.title_pl,
        title_en=h.title_en or h.title_pl,
        abstract_pl=(h.abstract_pl or h.title_pl) + f" Źródło: {origin}; pobrano {when}.",
        abstract_en=(h.abstract_en or h.title_en or h.title_pl) + f" Source: {origin}; harvested {when}.",
        model="layers.HarvestedFeature",
        geometry_type=h.geometry_type,
        id_attribute="ID",
        public_attributes=tuple(attrs),
        keywords=("harvested", "dane z innych urzędów"),
        current_only=True,
        tiles=True,
        tile_attributes=tuple(a.name for a in attrs[:4]),
        partition=h.pk,
        origin=origin,
        harvested_at=h.harvested_at.isoformat() if h.harvested_at else "",
    )


def catalogue_layers() -> tuple[Layer, ...]:
    """The harvested layers' catalogue entries (cached per data version)."""
    global _cached
    from django.db import DatabaseError

    from layers.models import HarvestedLayer
    from layers.selectors import data_version

    version = data_version()
    cached = _cached
    if cached is not None and cached[0] == version:
        return cached[1]
    from django.db import connection

    with _lock:
        opened_here = connection.connection is None
        try:
            rows = list(
                HarvestedLayer.objects.select_related("source")
                .filter(enabled=True, harvested_at__isnull=False)
                .order_by("name")
            )
        except (DatabaseError, RuntimeError):  # no migrations yet, or no database here (an import-time read)
            return ()
        finally:
            # a read outside any request or task (at import, while tests are collected) leaves no connection
            # open behind it: one opened now would outlive a change of the database settings
            if opened_here and not connection.in_atomic_block:
                connection.close()
        layers = tuple(layer for layer in (_entry(h) for h in rows) if layer is not None)
        _cached = (version, layers)
    return layers


def forget() -> None:
    """Drop the cached list (tests; a harvest bumps the data version, which does the same in every process)."""
    global _cached
    _cached = None
