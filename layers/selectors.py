"""Reads of registry data. Public reads see current objects only and never personal data;
restricted reads (owners, KW numbers) go through `restricted_*`, which require the capability
and write the append-only, hash-chained access log first (DOMAIN.md §11)."""

from __future__ import annotations

import hashlib
import json
import re
import time

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from gisportal.core.errors import Forbidden, InvalidInput, NotFound
from gisportal.core.identifiers import parse_parcel_id

from .models import Parcel, RestrictedAccessLog, RestrictedLandRegisterEntry, RestrictedShare

RESTRICTED_CAPABILITY = "gisportal.view_restricted_layers"


def parcel_public(parcel_id: str) -> Parcel:
    """The current parcel with this official identifier (public attributes only are ever serialised)."""
    parse_parcel_id(parcel_id)
    parcel = (
        Parcel.objects.current()
        .select_related("precinct", "precinct__unit")
        .prefetch_related("land_uses")
        .filter(parcel_id=parcel_id)
        .first()
    )
    if parcel is None:
        raise NotFound(_("There is no current parcel %(id)s in the register.") % {"id": parcel_id})
    return parcel


@transaction.atomic
def access_log_append(
    user, *, legal_basis: str, object_kind: str, object_ids: list[str], case_sign: str = ""
) -> RestrictedAccessLog:
    """Append one entry, chained to the previous one by SHA-256 (serialised by a table lock).
    `user` None: an operator at the command line (no portal account)."""
    if not legal_basis or not legal_basis.strip():
        raise InvalidInput(_("A legal basis is required to read personal data."), code="legal_basis_required")
    with connection.cursor() as cur:
        cur.execute("LOCK TABLE layers_restrictedaccesslog IN SHARE ROW EXCLUSIVE MODE")
    last = RestrictedAccessLog.objects.order_by("-id").only("hash").first()
    prev = last.hash if last else "0" * 64
    user_pk = user.pk if user is not None else None
    username = user.get_username() if user is not None else "system (command line)"
    body = json.dumps(
        {
            "user": user_pk,
            "username": username,
            "basis": legal_basis,
            "case": case_sign,
            "kind": object_kind,
            "ids": object_ids,
            "prev": prev,
        },
        ensure_ascii=False,
        sort_keys=True,
    )
    return RestrictedAccessLog.objects.create(
        user_id=user_pk,
        username=username,
        legal_basis=legal_basis.strip()[:300],
        case_sign=case_sign[:60],
        object_kind=object_kind,
        object_ids=object_ids,
        prev_hash=prev,
        hash=hashlib.sha256(body.encode()).hexdigest(),
    )


def access_log_verify() -> bool:
    """True when every entry links to its predecessor (a cheap tamper check)."""
    prev = "0" * 64
    for entry in RestrictedAccessLog.objects.order_by("id").iterator():
        if entry.prev_hash != prev:
            return False
        prev = entry.hash
    return True


def restricted_parcel_data(user, parcel_id: str, *, legal_basis: str, case_sign: str = "") -> dict:
    """KW numbers and owners of a parcel, for users whose role allows it; logged before it is read."""
    if not user.has_perm(RESTRICTED_CAPABILITY):
        raise Forbidden(_("You are not allowed to see personal data from the register."))
    parcel = parcel_public(parcel_id)
    access_log_append(
        user, legal_basis=legal_basis, object_kind="parcel", object_ids=[parcel_id], case_sign=case_sign
    )
    shares = RestrictedShare.objects.filter(registration_unit=parcel.registration_unit).select_related(
        "subject"
    )
    return {
        "parcel_id": parcel.parcel_id,
        "kw": list(
            RestrictedLandRegisterEntry.objects.filter(parcel=parcel).values_list("kw_number", flat=True)
        ),
        "owners": [
            {
                "name": s.subject.name,
                "kind": s.subject.kind,
                "right": s.right,
                "share": f"{s.numerator}/{s.denominator}",
            }
            for s in shares
        ],
    }


DATA_VERSION_KEY = "gisportal:data-version"


# The version as this process last read it: a tile or map request would otherwise pay a Redis round
# trip for it. Another process's import is seen within DATA_VERSION_TTL seconds; this process's at once.
DATA_VERSION_TTL: float = settings.GISPORTAL_DATA_VERSION_TTL
_seen_version: tuple[float, int] | None = None


def data_version() -> int:
    """A number that changes whenever registry content changes (imports, demo loads): caches key on it."""
    global _seen_version
    from django.core.cache import cache

    seen = _seen_version
    now = time.monotonic()
    if seen is not None and now - seen[0] < DATA_VERSION_TTL:
        return seen[1]
    version = cache.get(DATA_VERSION_KEY)
    if version is None:
        version = 1
        cache.add(DATA_VERSION_KEY, version, timeout=None)
    _seen_version = (now, int(version))
    return int(version)


def data_version_bump() -> None:
    global _seen_version
    from django.core.cache import cache

    try:
        cache.incr(DATA_VERSION_KEY)
    except ValueError:
        cache.set(DATA_VERSION_KEY, 2, timeout=None)
    _seen_version = None


FALLBACK_EXTENT = (628_700.0, 455_400.0, 646_300.0, 474_800.0)  # gmina Piaseczno, DOMAIN.md §12


def layer_extents() -> dict[str, tuple[float, float, float, float]]:
    """EPSG:2180 extent (x = easting) of every catalogue layer, computed once per data version and
    layer list."""
    from django.core.cache import cache

    from . import catalogue

    names = catalogue.layer_names()
    key = f"gisportal:extents:{data_version()}:{hashlib.sha256(','.join(names).encode()).hexdigest()[:16]}"
    extents = cache.get(key)
    if extents is not None:
        return extents
    extents = {}
    with connection.cursor() as cur:
        for layer in catalogue.LAYERS:
            src = catalogue.layer_sql_source(layer)
            inner = f"SELECT ST_Extent({src.geometry}) e FROM {src.from_clause} WHERE {src.where()}"  # noqa: S608
            cur.execute(f"SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM ({inner}) s")  # noqa: S608
            row = cur.fetchone()
            extents[layer.name] = (
                tuple(float(v) for v in row) if row and row[0] is not None else FALLBACK_EXTENT
            )
    cache.set(key, extents, timeout=3600)
    return extents


# ---- search (map portal and its text path) ---------------------------------------------------------
SEARCH_LIMIT = 10
_SEARCH_NUMBER = re.compile(r"^(?P<name>.+?)[\s,]+(?P<number>\d{1,6}(?:/\d{1,4})?[A-Za-z]?)$")


def _hit(kind: str, label: str, ident: str, geom, url: str = "") -> dict:
    g = geom.simplify(0.05, preserve_topology=True) if geom.geom_type != "Point" else geom
    return {
        "kind": kind,
        "label": label,
        "id": ident,
        "bbox": list(geom.extent),
        "geometry": json.loads(g.json),
        "url": url,
    }


def search_registry(text: str, limit: int = SEARCH_LIMIT) -> list[dict]:
    """Parcels by full or partial id or by precinct name + number, addresses by street (or locality)
    and number, precincts by name. Public data only, EPSG:2180 (x = easting)."""
    from .models import AddressPoint, Precinct

    q = " ".join((text or "").split())[:100]
    if len(q) < 2:
        return []
    hits: list[dict] = []
    parcels = Parcel.objects.current().select_related("precinct")
    if q[:1].isdigit():
        for p in parcels.filter(parcel_id__startswith=q).order_by("parcel_id")[:limit]:
            hits.append(_hit("parcel", p.parcel_id, p.parcel_id, p.geom, f"/dzialka/{p.parcel_id}"))
        return hits
    m = _SEARCH_NUMBER.match(q)
    if m:
        name, number = m.group("name").strip(), m.group("number")
        for p in parcels.filter(precinct__name__iexact=name, number=number)[:limit]:
            hits.append(
                _hit(
                    "parcel",
                    f"{p.precinct.name} {p.number} ({p.parcel_id})",
                    p.parcel_id,
                    p.geom,
                    f"/dzialka/{p.parcel_id}",
                )
            )
        addresses = (
            AddressPoint.objects.current()
            .filter(number__iexact=number)
            .filter(Q(street__iexact=name) | Q(street="", locality__iexact=name))
        )
        for a in addresses[: limit - len(hits)]:
            label = f"{a.street or a.locality} {a.number}, {a.postcode} {a.locality}".strip()
            hits.append(_hit("address", label, a.local_id, a.geom))
        if hits:
            return hits
    for r in Precinct.objects.current().filter(name__icontains=q).order_by("name")[:limit]:
        hits.append(_hit("precinct", f"{r.name} ({r.precinct_id})", r.precinct_id, r.geom))
    if len(hits) < limit:
        streets = (
            AddressPoint.objects.current()
            .filter(street__istartswith=q)
            .order_by("street", "number")
            .distinct("street", "number")
        )
        for a in streets[: limit - len(hits)]:
            hits.append(_hit("address", f"{a.street} {a.number}, {a.locality}", a.local_id, a.geom))
    return hits


def parcel_zoning(parcel: Parcel) -> list[dict]:
    """Zoning designations over a parcel with the share of its area (public)."""
    from django.contrib.gis.db.models.functions import Area, Intersection

    from .models import ZoningArea

    total = parcel.geom.area or 1.0
    rows = (
        ZoningArea.objects.filter(geom__intersects=parcel.geom)
        .select_related("plan")
        .annotate(part=Area(Intersection("geom", parcel.geom)))
        .order_by("-part")
    )
    out = []
    for z in rows:
        share = z.part.sq_m / total if hasattr(z.part, "sq_m") else float(z.part) / total
        if share >= 0.001:
            out.append(
                {
                    "label": z.label,
                    "symbol": z.symbol,
                    "description": z.description,
                    "plan": z.plan.name,
                    "resolution": z.plan.resolution_no,
                    "share": round(share * 100, 1),
                }
            )
    return out
