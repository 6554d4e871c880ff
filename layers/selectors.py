"""Reads of registry data. Public reads see current objects only and never personal data;
restricted reads (owners, KW numbers) go through `restricted_*`, which require the capability
and write the append-only, hash-chained access log first (DOMAIN.md §11)."""

from __future__ import annotations

import hashlib
import json
import math
import time

from django.conf import settings
from django.db import connection, transaction
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


# The version as this process last read it (per database alias: the primary and a read replica may differ
# for a moment): a tile or map request would otherwise pay a query for it. Another process's import is seen
# within DATA_VERSION_TTL seconds; this process's at once.
DATA_VERSION_TTL: float = settings.GISPORTAL_DATA_VERSION_TTL
_seen_version: dict[str, tuple[float, int]] = {}


def data_version() -> int:
    """A number that changes whenever registry content changes (imports, demo loads, harvests): caches key on
    it. Read from the database that serves this request's reads (models.DataVersion), so a read replica
    gives the version of the data it holds, and a cache outage loses nothing."""
    from django.db import connections, router

    from .models import DataVersion

    alias = router.db_for_read(DataVersion)
    seen = _seen_version.get(alias)
    now = time.monotonic()
    if seen is not None and now - seen[0] < DATA_VERSION_TTL:
        return seen[1]
    with connections[alias].cursor() as cur:
        cur.execute("SELECT version FROM layers_dataversion WHERE id = 1")
        row = cur.fetchone()
    version = int(row[0]) if row else 0
    _seen_version[alias] = (now, version)
    return version


def data_version_bump() -> None:
    """A new data version, in the caller's transaction (it commits with the data it versions); from a
    sequence, so never a number used before, even by a transaction rolled back since."""
    with connection.cursor() as cur:
        cur.execute(
            "INSERT INTO layers_dataversion (id, version) VALUES (1, nextval('layers_data_version_seq')) "
            "ON CONFLICT (id) DO UPDATE SET version = EXCLUDED.version"
        )
    _seen_version.clear()


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
        for layer in catalogue.all_layers():
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

# Each branch below answers one reading of the text (layers/search.py) with rows (kind, pk, score, sort);
# the scores put exact identifiers first, then exact names with a number, then names that start with
# what was typed, then typos (trigram similarity at least 0.5), then bare names. Names are compared
# folded, lower(public.gis_unaccent(...)): the expression the indexes of migration 0008 are built on.
# The SQL is static: every value is a parameter.
_PARCEL_EXACT = """
    SELECT 'parcel', p.id, 100.0::float8, p.parcel_id::text FROM layers_parcel p
    WHERE p.end_object IS NULL AND p.parcel_id = %(parcel_id)s"""
_PARCEL_PREFIX = """
    (SELECT 'parcel', p.id, 60.0, p.parcel_id FROM layers_parcel p
     WHERE p.end_object IS NULL AND p.parcel_id LIKE %(id_like)s ORDER BY p.parcel_id LIMIT %(n)s)"""
_PRECINCT_EXACT = """
    SELECT 'precinct', r.id, 98.0, r.precinct_id FROM layers_precinct r
    WHERE r.end_object IS NULL AND r.precinct_id = %(precinct_id)s"""
_PRECINCT_NUMBER = """
    (SELECT 'precinct', r.id, 85.0, r.precinct_id FROM layers_precinct r
     WHERE r.end_object IS NULL AND r.number = %(precinct_no)s ORDER BY r.precinct_id LIMIT %(n)s)"""
_PRECINCT_PARCEL = """
    (SELECT 'parcel', p.id, 92.0, p.parcel_id FROM layers_precinct r JOIN layers_parcel p ON p.precinct_id = r.id
     WHERE r.end_object IS NULL AND p.end_object IS NULL AND r.number = %(precinct_no)s
       AND p.number = %(number)s AND (%(sheet)s::int IS NULL OR p.sheet = %(sheet)s::int)
     ORDER BY p.parcel_id LIMIT %(n)s)"""
_NUMBER = """
    (SELECT 'parcel', p.id, 70.0, p.parcel_id FROM layers_parcel p
     WHERE p.end_object IS NULL AND p.number = %(number)s AND (%(sheet)s::int IS NULL OR p.sheet = %(sheet)s::int)
     ORDER BY p.parcel_id LIMIT %(n)s)"""
# a place and a parcel number: the precinct by its name (exact, its first words, a typo) or by the
# name of its cadastral unit ("Piaseczno" for the precincts of "Piaseczno – miasto")
_PLACE_PARCEL = """
    (SELECT 'parcel', p.id, m.score, p.parcel_id
     FROM (SELECT r.id, CASE WHEN x.n = x.a THEN 95.0
                             WHEN starts_with(x.n, x.a || ' ') OR starts_with(x.n, x.a || '-') THEN 82.0
                             WHEN x.u = x.a OR starts_with(x.u, x.a || ' ') THEN 62.0
                             ELSE 50.0 + 35.0 * x.sim END AS score
           FROM layers_precinct r JOIN layers_cadastralunit u ON u.id = r.unit_id
           CROSS JOIN LATERAL (
               SELECT n, u, a, greatest(similarity(n, a), strict_word_similarity(a, n)) AS sim
               FROM (SELECT lower(public.gis_unaccent(r.name)) AS n, lower(public.gis_unaccent(u.name)) AS u,
                            %(place)s AS a) f) x
           WHERE r.end_object IS NULL
             AND (x.n = x.a OR starts_with(x.n, x.a || ' ') OR starts_with(x.n, x.a || '-')
                  OR x.u = x.a OR starts_with(x.u, x.a || ' ') OR x.sim >= 0.5)) m
     JOIN layers_parcel p ON p.precinct_id = m.id
     WHERE p.end_object IS NULL AND p.number = %(number)s AND (%(sheet)s::int IS NULL OR p.sheet = %(sheet)s::int)
     ORDER BY m.score DESC, p.parcel_id LIMIT %(n)s)"""
# an address by its house number and the other words: the street (typos forgiven; the locality may
# stand before or after it, and counts a little), or, where there is no street, the locality
_ADDRESS_NUMBER = """
    (SELECT 'address', a.id, s.score, s.sort FROM layers_addresspoint a
     CROSS JOIN LATERAL (SELECT lower(public.gis_unaccent(a.street)) AS st,
                                lower(public.gis_unaccent(a.locality)) AS lo,
                                %(words)s AS w) x
     CROSS JOIN LATERAL (
         SELECT CASE WHEN a.street <> ''
                     THEN greatest(strict_word_similarity(x.st, x.w), 0.85 * strict_word_similarity(x.w, x.st),
                                   similarity(x.st, x.w))
                     ELSE greatest(strict_word_similarity(x.lo, x.w), 0.85 * strict_word_similarity(x.w, x.lo),
                                   similarity(x.lo, x.w)) END AS sim,
                strict_word_similarity(x.lo, x.w) AS losim) y
     CROSS JOIN LATERAL (
         SELECT CASE WHEN a.street <> ''
                     THEN CASE WHEN y.sim >= 0.999 THEN 94.0 ELSE 50.0 + 40.0 * y.sim END
                          + CASE WHEN y.losim >= 0.6 AND x.w <> x.st THEN 3.0 ELSE 0.0 END
                     ELSE CASE WHEN x.lo = x.w THEN 80.0 ELSE 50.0 + 30.0 * y.sim END END
                - CASE WHEN lower(a.number) = %(house)s THEN 0.0 ELSE 5.0 END AS score,
                x.st || '|' || x.lo || '|' || lpad(coalesce(substring(a.number from '^[0-9]+'), ''), 6, '0')
                || a.number AS sort) s
     WHERE a.end_object IS NULL AND lower(a.number) IN (%(house)s, %(house_alt)s) AND y.sim >= 0.5
     ORDER BY s.score DESC, s.sort LIMIT %(n)s)"""
# precincts by name (exact, its first words, the start of a word, a typo); below the parcels when the
# text had a number too, unless the name is exact
_PRECINCT_NAME = """
    (SELECT 'precinct', r.id, s.score - CASE WHEN s.score < 100.0 THEN %(name_penalty)s ELSE 0.0 END,
            r.precinct_id
     FROM layers_precinct r
     CROSS JOIN LATERAL (SELECT lower(public.gis_unaccent(r.name)) AS n, %(name)s AS w,
                                %(name_like)s AS w_like) x
     CROSS JOIN LATERAL (
         SELECT greatest(CASE WHEN x.n = x.w THEN 100.0
                              WHEN starts_with(x.n, x.w || ' ') OR starts_with(x.n, x.w || '-') THEN 88.0
                              WHEN starts_with(x.n, x.w) THEN 84.0
                              WHEN x.n LIKE '%%' || x.w_like THEN 76.0 ELSE 0.0 END,
                         40.0 + 40.0 * greatest(similarity(x.n, x.w), strict_word_similarity(x.w, x.n))) AS score) s
     WHERE r.end_object IS NULL AND s.score >= 60.0
       AND (x.n %% x.w OR x.w <<%% x.n OR x.n LIKE x.w_like OR x.n LIKE '%% ' || x.w_like)
     ORDER BY 3 DESC, r.precinct_id LIMIT %(n)s)"""
# streets (and, where there are no streets, localities) by name alone: their addresses in order of
# number; a fallback below everything else when a house number was given but did not match
_STREET_NAME = """
    (SELECT 'address', a.id, s.score - %(fallback)s,
            x.st || '|' || lpad(coalesce(substring(a.number from '^[0-9]+'), ''), 6, '0') || a.number
     FROM layers_addresspoint a
     CROSS JOIN LATERAL (SELECT lower(public.gis_unaccent(a.street)) AS st, %(words)s AS w,
                                %(words_like)s AS w_like) x
     CROSS JOIN LATERAL (
         SELECT greatest(CASE WHEN x.st = x.w THEN 70.0
                              WHEN starts_with(x.st, x.w) THEN 66.0
                              WHEN x.st LIKE '%% ' || x.w_like THEN 60.0 ELSE 0.0 END,
                         30.0 + 35.0 * greatest(similarity(x.st, x.w), strict_word_similarity(x.w, x.st),
                                                strict_word_similarity(x.st, x.w))) AS score) s
     WHERE a.end_object IS NULL AND a.street <> '' AND s.score >= 47.5
       AND (x.st %% x.w OR x.w <<%% x.st OR x.st LIKE x.w_like OR x.st LIKE '%% ' || x.w_like)
     ORDER BY 3 DESC, 4 LIMIT %(n)s)"""
_LOCALITY_NAME = """
    (SELECT 'address', a.id, s.score - %(fallback)s,
            x.lo || '|' || lpad(coalesce(substring(a.number from '^[0-9]+'), ''), 6, '0') || a.number
     FROM layers_addresspoint a
     CROSS JOIN LATERAL (SELECT lower(public.gis_unaccent(a.locality)) AS lo, %(words)s AS w,
                                %(words_like)s AS w_like) x
     CROSS JOIN LATERAL (
         SELECT greatest(CASE WHEN x.lo = x.w THEN 68.0
                              WHEN starts_with(x.lo, x.w) THEN 64.0
                              WHEN x.lo LIKE '%% ' || x.w_like THEN 58.0 ELSE 0.0 END,
                         30.0 + 35.0 * greatest(similarity(x.lo, x.w), strict_word_similarity(x.w, x.lo))) AS score) s
     WHERE a.end_object IS NULL AND a.street = '' AND s.score >= 47.5
       AND (x.lo %% x.w OR x.w <<%% x.lo OR x.lo LIKE x.w_like OR x.lo LIKE '%% ' || x.w_like)
     ORDER BY 3 DESC, 4 LIMIT %(n)s)"""
# the best hits with what a hit shows: geometry (simplified to 5 cm), its box, and for an address the
# current parcel its point lies in
_SEARCH = """
WITH cand (kind, pk, score, sort) AS ({branches}),
best AS (SELECT DISTINCT ON (kind, pk) kind, pk, score, sort FROM cand ORDER BY kind, pk, score DESC),
top AS (SELECT * FROM best ORDER BY score DESC, sort, kind LIMIT %(limit)s)
SELECT t.kind, p.parcel_id, p.number, r.name, r.precinct_id, a.local_id, a.street, a.locality, a.number,
       a.postcode, coalesce(p.parcel_id, ap.parcel_id),
       ST_XMin(g.geom), ST_YMin(g.geom), ST_XMax(g.geom), ST_YMax(g.geom),
       ST_AsGeoJSON(CASE WHEN t.kind = 'address' THEN g.geom
                         ELSE ST_Multi(ST_SimplifyPreserveTopology(g.geom, 0.05)) END, 2)
FROM top t
LEFT JOIN layers_parcel p ON t.kind = 'parcel' AND p.id = t.pk
LEFT JOIN layers_precinct r ON r.id = CASE t.kind WHEN 'parcel' THEN p.precinct_id
                                                  WHEN 'precinct' THEN t.pk END
LEFT JOIN layers_addresspoint a ON t.kind = 'address' AND a.id = t.pk
LEFT JOIN LATERAL (SELECT pp.parcel_id FROM layers_parcel pp
                   WHERE pp.end_object IS NULL AND ST_Intersects(pp.geom, a.geom)
                   ORDER BY pp.parcel_id LIMIT 1) ap ON t.kind = 'address'
CROSS JOIN LATERAL (SELECT coalesce(p.geom, r.geom, a.geom) AS geom) g
ORDER BY t.score DESC, t.sort, t.kind"""


def _like_prefix(prefix: str) -> str:
    return prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


_FOLD = (
    "SELECT lower(public.gis_unaccent(%s)), lower(public.gis_unaccent(%s)), lower(public.gis_unaccent(%s))"
)


def _search_sql(q, folded: tuple[str, str, str]) -> tuple[str, dict]:
    """The branches that fit the parsed text, as one statement (every value a parameter). `folded`: the
    place, the words and the name folded as the indexed columns are (_FOLD); folding them beforehand
    keeps the planner from folding each of their many uses again."""
    place, words, name = (v if any(c.isalnum() for c in v) else "" for v in folded)  # "́́" folds to ""
    branches: list[str] = []
    if q.parcel_id:
        branches.append(_PARCEL_EXACT)
    if q.precinct_id and not q.text.endswith("."):  # "141804_5.0001." starts parcel ids
        branches.append(_PRECINCT_EXACT)
    if q.id_prefix:
        branches.append(_PARCEL_PREFIX)
    with_precinct = bool(q.precinct_no and q.number and q.number != q.precinct_no)
    if with_precinct:
        branches.append(_PRECINCT_PARCEL)
    elif q.precinct_no:
        branches.append(_PRECINCT_NUMBER)
    if q.number and place:
        branches.append(_PLACE_PARCEL)
    elif q.number and not with_precinct:
        branches.append(_NUMBER)
    if q.house_numbers and words:
        branches.append(_ADDRESS_NUMBER)
    if name:
        branches.append(_PRECINCT_NAME)
    if words:
        branches += [_STREET_NAME, _LOCALITY_NAME]
    houses = q.house_numbers or ("",)
    params = {
        "parcel_id": q.parcel_id,
        "precinct_id": q.precinct_id,
        "id_like": _like_prefix(q.id_prefix),
        "precinct_no": q.precinct_no,
        "number": q.number,
        "sheet": q.sheet,
        "place": place,
        "words": words,
        "name": name,
        "name_like": _like_prefix(name),  # the name's start, or (after "% ") a word's start
        "words_like": _like_prefix(words),
        "house": houses[0],
        "house_alt": houses[-1],
        "fallback": 25.0 if q.house_numbers else 0.0,
        "name_penalty": 20.0 if q.number or q.house_numbers else 0.0,
    }
    if not branches:
        return "", params
    return _SEARCH.format(branches="\n    UNION ALL".join(branches)), params  # static SQL only


def _precinct_url(bbox: list[float]) -> str:
    x0, y0, x1, y1 = bbox
    return f"/?bbox={math.floor(x0)},{math.floor(y0)},{math.ceil(x1)},{math.ceil(y1)}"


def search_registry(text: str, limit: int = SEARCH_LIMIT) -> list[dict]:
    """Parcels, addresses and precincts for what people type (layers/search.py lists the spellings),
    best first, at most `limit`. Public data only, EPSG:2180 (x = easting). Each hit: kind, label, id,
    bbox, GeoJSON geometry, url (the parcel's page; for an address the page of the parcel it stands on;
    for a precinct the map at its box) and parcel_id (the parcel itself or the address's parcel)."""
    from .search import parse

    q = parse(text)
    if q.empty:
        return []
    with connection.cursor() as cur:
        cur.execute(_FOLD, [q.place, q.words, q.name])
        sql, params = _search_sql(q, cur.fetchone())
        if not sql:
            return []
        cur.execute(sql, params | {"n": limit * 2, "limit": limit})
        rows = cur.fetchall()
    hits = []
    for (
        kind,
        parcel_id,
        parcel_no,
        precinct_name,
        precinct_id,
        local_id,
        street,
        locality,
        house,
        postcode,
        parcel_of_hit,
        *box,
        geojson,
    ) in rows:
        bbox = [float(v) for v in box]
        hit = {"kind": kind, "bbox": bbox, "geometry": json.loads(geojson), "parcel_id": parcel_of_hit}
        if kind == "parcel":
            hit |= {
                "label": f"{precinct_name} {parcel_no} ({parcel_id})",
                "id": parcel_id,
                "url": f"/dzialka/{parcel_id}",
            }
        elif kind == "precinct":
            hit |= {
                "label": f"{precinct_name} ({precinct_id})",
                "id": precinct_id,
                "url": _precinct_url(bbox),
            }
        else:
            place = f"{postcode} {locality}".strip()
            hit |= {
                "label": f"{street or locality} {house}, {place}",
                "id": local_id,
                "url": f"/dzialka/{parcel_of_hit}" if parcel_of_hit else "",
            }
        hits.append(hit)
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
