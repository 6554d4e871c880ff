"""Bulk loading of the synthetic data set with COPY, in one transaction: all or nothing."""

from __future__ import annotations

import struct
import time
from array import array
from collections.abc import Callable
from datetime import UTC

import shapely
from django.db import connection, transaction
from django.utils.translation import gettext as _
from shapely.geometry import MultiPolygon, Polygon

from gisportal.core.errors import ConfigurationError, InvalidInput

from .generator import (
    ADDRESS_NAMESPACE,
    GMINA_TERYT,
    NAMESPACE,
    START_OBJECT,
    VERSION_ID,
    VERSION_START,
    DemoGenerator,
    _local_id,
)

SRID = 2180
MIN_PARCELS, MAX_PARCELS = 1000, 5_000_000

REGISTRY_TABLES = [
    "layers_restrictedshare",
    "layers_restrictedsubject",
    "layers_restrictedlandregisterentry",
    "layers_zoningarea",
    "layers_zoningplan",
    "layers_building_parcels",
    "layers_building",
    "layers_parcellanduse",
    "layers_parcel",
    "layers_landusecontour",
    "layers_soilclasscontour",
    "layers_addresspoint",
    "layers_precinct",
    "layers_cadastralunit",
    "layers_administrativeunit",
]
IIP_COLUMNS = (
    "local_id",
    "namespace",
    "version_id",
    "start_object",
    "start_version",
    "end_version",
    "end_object",
)

_MPOLY_HEAD = struct.pack("<BII", 1, 6 | 0x20000000, SRID) + struct.pack("<I", 1)


def mpoly_hex(ring: list[tuple[float, float]]) -> str:
    flat = array("d", [c for p in ring for c in p])
    return (_MPOLY_HEAD + struct.pack("<BIII", 1, 3, 1, len(ring)) + flat.tobytes()).hex()


def point_hex(p: tuple[float, float]) -> str:
    return struct.pack("<BIIdd", 1, 1 | 0x20000000, SRID, p[0], p[1]).hex()


def shapely_mpoly_hex(geom) -> str:
    if isinstance(geom, Polygon):
        geom = MultiPolygon([geom])
    return shapely.to_wkb(shapely.set_srid(geom, SRID), hex=True, include_srid=True)


def check_postgis() -> None:
    with connection.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_extension WHERE extname = 'postgis'")
        if cur.fetchone() is None:
            raise ConfigurationError(
                _(
                    "The database has no PostGIS extension. Run `make demo` (or `CREATE EXTENSION postgis;` as a superuser) first."
                )
            )


def registry_is_empty() -> bool:
    with connection.cursor() as cur:
        cur.execute(
            "SELECT NOT EXISTS (SELECT 1 FROM layers_parcel) AND NOT EXISTS (SELECT 1 FROM layers_administrativeunit)"
        )
        return cur.fetchone()[0]


def validate_size(parcels: int) -> None:
    if not isinstance(parcels, int) or parcels < MIN_PARCELS or parcels > MAX_PARCELS:
        raise InvalidInput(
            _("The number of parcels must be a whole number between %(lo)s and %(hi)s (got %(n)s).")
            % {"lo": MIN_PARCELS, "hi": f"{MAX_PARCELS:,}".replace(",", " "), "n": parcels}
        )


class _Copier:
    """Holds one COPY per table at a time on the Django connection's psycopg cursor."""

    def __init__(self, cur):
        self.cur = cur

    def rows(self, table: str, columns: tuple[str, ...], rows) -> int:
        n = 0
        cols = ", ".join(f'"{c}"' for c in columns)
        sql = f"COPY {table} ({cols}) FROM STDIN"
        with self.cur.copy(sql) as cp:
            for row in rows:
                cp.write_row(row)
                n += 1
        return n


def load_demo(
    parcels: int, seed: int = 1, *, replace: bool = False, progress: Callable[[str], None] | None = None
) -> dict[str, int]:
    """Generate and load the data set. Returns row counts per kind. Raises before writing on bad input."""
    validate_size(parcels)
    check_postgis()
    say = progress or (lambda _msg: None)
    t0 = time.monotonic()
    gen = DemoGenerator(parcels, seed)
    counts: dict[str, int] = {}
    iip = (VERSION_ID, START_OBJECT.replace(tzinfo=UTC), VERSION_START.replace(tzinfo=UTC), None, None)

    with transaction.atomic():
        with connection.cursor() as wrapper:
            cur = wrapper.cursor
            if not replace and not registry_is_empty():
                raise InvalidInput(
                    _(
                        "The database already holds registry data; use --replace to load the demo data set again."
                    )
                )
            if replace:
                cur.execute("TRUNCATE " + ", ".join(REGISTRY_TABLES) + " RESTART IDENTITY CASCADE")
            cur.execute("SET LOCAL synchronous_commit = off")
            copy = _Copier(cur)

            admin, units = gen.admin_units()
            counts["administrative_units"] = copy.rows(
                "layers_administrativeunit",
                ("id", "teryt", "level", "name", "parent_id", "geom"),
                ((a.id, a.teryt, a.level, a.name, a.parent_id, shapely_mpoly_hex(a.polygons)) for a in admin),
            )
            gmina_pk = next(a.id for a in admin if a.teryt == GMINA_TERYT)
            counts["cadastral_units"] = copy.rows(
                "layers_cadastralunit",
                (*IIP_COLUMNS, "id", "unit_id", "name", "gmina_id", "geom"),
                (
                    (
                        _local_id("unit", u.unit_id),
                        NAMESPACE,
                        *iip,
                        u.id,
                        u.unit_id,
                        u.name,
                        gmina_pk,
                        shapely_mpoly_hex(u.polygons),
                    )
                    for u in units
                ),
            )
            plans = gen.plans()
            counts["zoning_plans"] = copy.rows(
                "layers_zoningplan",
                (
                    "id",
                    "plan_id",
                    "name",
                    "teryt_gmina",
                    "resolution_no",
                    "resolution_date",
                    "in_force_from",
                    "geom",
                ),
                (
                    (pk, pid, name, GMINA_TERYT, res, day, day, shapely_mpoly_hex(g))
                    for pk, pid, name, res, day, g in plans
                ),
            )
            say(_("administrative units, cadastral units and zoning plans written"))
            unit_pks = {u.unit_id: u.id for u in units}
            for i, batch in enumerate(gen.cells(unit_pks)):
                _load_batch(copy, batch, iip, counts)
                if progress:
                    say(
                        _("cell %(i)s/%(n)s: %(p)s parcels so far (%(s).0f s)")
                        % {
                            "i": i + 1,
                            "n": len(gen.gmina_cells),
                            "p": counts.get("parcels", 0),
                            "s": time.monotonic() - t0,
                        }
                    )
            for table in (
                "layers_administrativeunit",
                "layers_cadastralunit",
                "layers_precinct",
                "layers_parcel",
                "layers_parcellanduse",
                "layers_building",
                "layers_building_parcels",
                "layers_addresspoint",
                "layers_landusecontour",
                "layers_soilclasscontour",
                "layers_zoningplan",
                "layers_zoningarea",
                "layers_restrictedlandregisterentry",
                "layers_restrictedsubject",
                "layers_restrictedshare",
            ):
                # table names come from the constant list above, never from input
                cur.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), COALESCE((SELECT max(id) FROM {table}), 0) + 1, false)"  # noqa: S608
                )
    from ..selectors import data_version_bump

    data_version_bump()
    say(_("analysing tables"))
    with connection.cursor() as cur:
        for table in REGISTRY_TABLES:
            cur.execute(f"ANALYZE {table}")
    counts["seconds"] = round(time.monotonic() - t0, 1)
    return counts


def _load_batch(copy: _Copier, batch, iip, counts: dict[str, int]) -> None:
    def add(key: str, n: int) -> None:
        counts[key] = counts.get(key, 0) + n

    add(
        "precincts",
        copy.rows(
            "layers_precinct",
            (*IIP_COLUMNS, "id", "precinct_id", "number", "name", "unit_id", "geom"),
            (
                (
                    _local_id("precinct", p.precinct_id),
                    NAMESPACE,
                    *iip,
                    p.id,
                    p.precinct_id,
                    p.number,
                    p.name,
                    p.unit_pk,
                    mpoly_hex(p.ring),
                )
                for p in batch.precincts
            ),
        ),
    )
    add(
        "parcels",
        copy.rows(
            "layers_parcel",
            (
                *IIP_COLUMNS,
                "id",
                "parcel_id",
                "number",
                "sheet",
                "precinct_id",
                "area_ha",
                "area_accuracy",
                "registration_unit",
                "registration_group",
                "geom",
            ),
            (
                (
                    _local_id("parcel", p.parcel_id),
                    NAMESPACE,
                    *iip,
                    p.id,
                    p.parcel_id,
                    p.number,
                    p.sheet,
                    p.precinct_pk,
                    p.area_ha,
                    1,
                    p.jrg,
                    p.group,
                    mpoly_hex(p.ring),
                )
                for p in batch.parcels
            ),
        ),
    )
    add(
        "parcel_land_uses",
        copy.rows(
            "layers_parcellanduse",
            ("parcel_id", "ofu", "ozu", "ozk", "area_ha"),
            ((p.id, ofu, ozu, ozk, area) for p in batch.parcels for ofu, ozu, ozk, area in p.land_uses),
        ),
    )
    add(
        "buildings",
        copy.rows(
            "layers_building",
            (
                *IIP_COLUMNS,
                "id",
                "building_id",
                "kst_type",
                "storeys_above",
                "storeys_below",
                "built_up_area_m2",
                "geom",
            ),
            (
                (
                    _local_id("building", b.building_id),
                    NAMESPACE,
                    *iip,
                    b.id,
                    b.building_id,
                    b.kst,
                    b.storeys_above,
                    b.storeys_below,
                    b.area_m2,
                    mpoly_hex(b.ring),
                )
                for b in batch.buildings
            ),
        ),
    )
    copy.rows(
        "layers_building_parcels",
        ("building_id", "parcel_id"),
        ((b.id, b.parcel_pk) for b in batch.buildings),
    )
    add(
        "addresses",
        copy.rows(
            "layers_addresspoint",
            (
                *IIP_COLUMNS,
                "id",
                "teryt_gmina",
                "simc",
                "locality",
                "ulic",
                "street",
                "number",
                "postcode",
                "status",
                "geom",
            ),
            (
                (
                    a.local_id,
                    ADDRESS_NAMESPACE,
                    *iip,
                    a.id,
                    GMINA_TERYT,
                    a.simc,
                    a.locality,
                    a.ulic,
                    a.street,
                    a.number,
                    a.postcode,
                    "istniejacy",
                    point_hex(a.point),
                )
                for a in batch.addresses
            ),
        ),
    )
    add(
        "land_use_contours",
        copy.rows(
            "layers_landusecontour",
            (*IIP_COLUMNS, "id", "contour_id", "ofu", "geom"),
            (
                (_local_id("ug", c.contour_id), NAMESPACE, *iip, c.id, c.contour_id, c.ofu, mpoly_hex(c.ring))
                for c in batch.contours
            ),
        ),
    )
    add(
        "soil_class_contours",
        copy.rows(
            "layers_soilclasscontour",
            (*IIP_COLUMNS, "id", "contour_id", "ozu", "ozk", "geom"),
            (
                (
                    _local_id("kl", c.contour_id),
                    NAMESPACE,
                    *iip,
                    c.id,
                    c.contour_id,
                    c.ozu,
                    c.ozk,
                    mpoly_hex(c.ring),
                )
                for c in batch.soils
            ),
        ),
    )
    add(
        "zoning_areas",
        copy.rows(
            "layers_zoningarea",
            ("id", "plan_id", "label", "symbol", "description", "geom"),
            ((z.id, z.plan_pk, z.label, z.symbol, z.description, mpoly_hex(z.ring)) for z in batch.zoning),
        ),
    )
    add(
        "land_register_entries",
        copy.rows(
            "layers_restrictedlandregisterentry",
            ("parcel_id", "kw_number"),
            batch.kw,
        ),
    )
    add(
        "subjects",
        copy.rows(
            "layers_restrictedsubject",
            (*IIP_COLUMNS, "id", "kind", "name", "first_name", "surname", "pesel", "regon", "address"),
            (
                (lid, NAMESPACE, *iip, sid, "person", f"{first} {surname}", first, surname, pesel, "", addr)
                for sid, lid, first, surname, pesel, addr in batch.subjects
            ),
        ),
    )
    copy.rows(
        "layers_restrictedshare",
        ("subject_id", "registration_unit", "kind", "right", "numerator", "denominator"),
        ((sid, jrg, "ownership", "własność", 1, 1) for sid, jrg in batch.shares),
    )
