"""Writing imported records: staged with COPY into a temporary table, checked in SQL, then merged
into the registry tables by IIP identity, in the caller's transaction (one per file).

Rules (DOMAIN.md §4.1, §7): an object whose file holds several versions keeps the version without
koniecWersjaObiekt (else the latest startWersjaObiekt); the others go to RegistryHistory. An object
with koniecObiekt is retired. A current row whose wersjaId equals the file's is left untouched, so
re-importing a file changes nothing. Objects of the same kind and namespace, inside the cadastral
units the file covers, that the file no longer holds are retired (end date, never deleted).
"""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

import orjson
import shapely
from django.conf import settings
from django.db import connection
from django.utils.translation import gettext as _
from psycopg.sql import Composable

from .base import KINDS, ImportFailed, Record, Report
from .bulk import BULK_MIN_ROWS, Bulk

STAGE_COLUMNS = (
    "kind",
    "local_id",
    "namespace",
    "version_id",
    "start_object",
    "start_version",
    "end_version",
    "end_object",
    "official_id",
    "attrs",
    "refs",
    "geom",
    "line",
)

# One partition per kind: every per-kind step scans only its own rows (a 100 000-parcel export stages
# ~600 000 objects, and a full scan per step and kind was most of the merge).
CREATE_STAGE = [
    """
CREATE TEMP TABLE imp_stage (
  seq bigserial NOT NULL, kind text NOT NULL, local_id text NOT NULL, namespace text NOT NULL,
  version_id text NOT NULL DEFAULT '', start_object timestamptz, start_version timestamptz,
  end_version timestamptz, end_object timestamptz, official_id text NOT NULL DEFAULT '', attrs jsonb NOT NULL,
  refs jsonb NOT NULL, geom geometry(Geometry, 2180), line int, status text NOT NULL DEFAULT 'new',
  target_id bigint, problem text
) PARTITION BY LIST (kind)
""",
    *(
        f"CREATE TEMP TABLE imp_stage_{k} PARTITION OF imp_stage FOR VALUES IN ('{k}') WITH (fillfactor = 60) ON COMMIT DROP"
        for k in KINDS
    ),  # room on each page: a status update writes its new row version beside the old one (measured: ~7 % faster merge)
    "CREATE TEMP TABLE imp_stage_other PARTITION OF imp_stage DEFAULT ON COMMIT DROP",
]


@dataclass(frozen=True)
class KindSpec:
    table: str
    official: str | None  # column of the official id (None: lokalnyId only)
    columns: dict[str, str]  # target column -> SQL expression over the staged row `s`
    geom: str | None = "ST_Multi(s.geom)"
    scope_by_unit: bool = True
    joins: str = ""  # joined to the staged row `s` where the columns are computed


def _written(table: str) -> str:
    """Join a staged row `s` to the registry row it was written to (`x`), by IIP identity."""
    return f"JOIN {table} x ON x.namespace = s.namespace AND x.local_id = s.local_id"


PRECINCT_OF = "split_part(s.official_id, '.', 1) || '.' || split_part(s.official_id, '.', 2)"
SPECS: dict[str, KindSpec] = {
    "unit": KindSpec(
        "layers_cadastralunit",
        "unit_id",
        {
            "unit_id": "s.official_id",
            "name": "coalesce(nullif(s.attrs->>'name', ''), s.official_id)",
            "gmina_id": "(SELECT a.id FROM layers_administrativeunit a WHERE a.level = 'gmina' "
            "AND left(a.teryt, 6) = replace(left(s.official_id, 6), '_', '') ORDER BY a.teryt LIMIT 1)",
        },
    ),
    "precinct": KindSpec(
        "layers_precinct",
        "precinct_id",
        {
            "precinct_id": "s.official_id",
            "number": "split_part(s.official_id, '.', 2)",
            "name": "coalesce(nullif(s.attrs->>'name', ''), s.official_id)",
            "unit_id": "(SELECT u.id FROM layers_cadastralunit u WHERE u.unit_id = split_part(s.official_id, '.', 1) AND u.end_object IS NULL)",
        },
    ),
    "parcel": KindSpec(
        "layers_parcel",
        "parcel_id",
        {
            "parcel_id": "s.official_id",
            # (the identifier's form is checked before: WWPPGG_R.XXXX[.AR_n].number, no dot in the number)
            "number": "split_part(s.official_id, '.', -1)",
            "sheet": r"CASE WHEN split_part(s.official_id, '.', 3) LIKE 'AR\_%%' THEN substr(split_part(s.official_id, '.', 3), 4)::int END",
            "precinct_id": "r.id",
            "area_ha": "(s.attrs->>'area_ha')::numeric",
            "area_accuracy": "(s.attrs->>'accuracy')::smallint",
            # the JRG2 xlink resolved through imp_jrg (EGiB GML), or the value a GIS file mapped directly
            "registration_unit": "coalesce(j.official_id, s.attrs->>'jrg', '')",
            "registration_group": "coalesce(j.grp, (s.attrs->>'group')::smallint)",
        },
        joins="LEFT JOIN imp_jrg j ON j.namespace = s.refs->'jrg'->0->>0 AND j.local_id = s.refs->'jrg'->0->>1 "
        f"LEFT JOIN layers_precinct r ON r.precinct_id = {PRECINCT_OF} AND r.end_object IS NULL",
    ),
    "building": KindSpec(
        "layers_building",
        "building_id",
        {
            "building_id": "s.official_id",
            "kst_type": "s.attrs->>'kst'",
            "storeys_above": "(s.attrs->>'above')::smallint",
            "storeys_below": "(s.attrs->>'below')::smallint",
            "built_up_area_m2": "(s.attrs->>'area_m2')::numeric",
        },
    ),
    "landuse": KindSpec(
        "layers_landusecontour", "contour_id", {"contour_id": "s.official_id", "ofu": "s.attrs->>'ofu'"}
    ),
    "soil": KindSpec(
        "layers_soilclasscontour",
        "contour_id",
        {
            "contour_id": "s.official_id",
            "ozu": "s.attrs->>'ozu'",
            "ozk": "coalesce(s.attrs->>'ozk', '')",
        },
    ),
    "address": KindSpec(
        "layers_addresspoint",
        None,
        {
            "teryt_gmina": "coalesce(s.attrs->>'teryt_gmina', '')",
            "simc": "coalesce(s.attrs->>'simc', '')",
            "locality": "s.attrs->>'locality'",
            "ulic": "coalesce(s.attrs->>'ulic', '')",
            "street": "coalesce(s.attrs->>'street', '')",
            "number": "s.attrs->>'number'",
            "postcode": "coalesce(s.attrs->>'postcode', '')",
            "status": "'istniejacy'",
        },
        geom="s.geom",
        scope_by_unit=False,
    ),
    "subject": KindSpec(
        "layers_restrictedsubject",
        None,
        {
            "kind": "s.attrs->>'kind'",
            "name": "s.attrs->>'name'",
            "first_name": "coalesce(s.attrs->>'first_name', '')",
            "surname": "coalesce(s.attrs->>'surname', '')",
            "pesel": "coalesce(s.attrs->>'pesel', '')",
            "regon": "coalesce(s.attrs->>'regon', '')",
            "address": "''",
        },
        geom=None,
        scope_by_unit=False,
    ),
}
TRACE: bool = settings.GISPORTAL_IMPORT_TRACE
log = logging.getLogger(__name__)
IMPORT_STATEMENT_TIMEOUT_MS: int = settings.GISPORTAL_IMPORT_STATEMENT_TIMEOUT_MS
IMPORT_TEMP_BUFFERS: str = settings.GISPORTAL_IMPORT_TEMP_BUFFERS
IMPORT_WORK_MEM: str = settings.GISPORTAL_IMPORT_WORK_MEM
_T0 = time.monotonic()


def trace(what: str) -> None:
    """With GISPORTAL_IMPORT_TRACE set: log the seconds since the process started (finding where an import's time goes)."""
    if TRACE:
        log.info("import %.2f s: %s", time.monotonic() - _T0, what)


IIP = ("local_id", "namespace", "version_id", "start_object", "start_version", "end_version", "end_object")


def _ewkb(geom) -> str | None:
    """Hex WKB without an SRID: the staging column's type (geometry, 2180) gives it one."""
    if geom is None:
        return None
    return shapely.to_wkb(geom, hex=True)


def _json(value) -> str:
    return orjson.dumps(value, default=str).decode()


_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_text(value: str | None) -> str:
    if value is None:
        return "\\N"
    if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
        return value.translate(_COPY_ESCAPES)
    return value


@lru_cache(maxsize=8192)  # the reader hands out the same few datetime objects again and again
def _copy_time(value: datetime | None) -> str:
    return "\\N" if value is None else value.isoformat()


def copy_row(rec: Record) -> str:
    """One staged row in PostgreSQL's COPY text format (columns of STAGE_COLUMNS)."""
    t = _copy_text
    geom = rec.wkb if rec.wkb is not None else _ewkb(rec.geom)  # hex digits only
    return (
        "\t".join(
            (
                t(rec.kind),
                t(rec.local_id),
                t(rec.namespace),
                t(rec.version_id or ""),
                _copy_time(rec.start_object),
                _copy_time(rec.start_version),
                _copy_time(rec.end_version),
                _copy_time(rec.end_object),
                t(rec.official_id or ""),
                t(_json(rec.attrs)),
                t(_json(rec.refs)),
                geom if geom is not None else "\\N",
                str(rec.line) if rec.line is not None else "\\N",
            )
        )
        + "\n"
    )


class Loader:
    """Stage records, then merge. Use inside `transaction.atomic()`; raise to roll everything back."""

    def __init__(self, report: Report, *, job_id: int | None = None):
        self.report = report
        self.job_id = job_id
        self._copy = None
        self._cm = None
        self.staged = 0
        self._pending: list[str] = []
        self.kinds_staged: list[
            str
        ] = []  # kinds in the order staged by `stage`, one entry per run of equal kinds
        self.merged: set[str] = set()  # kinds merged so far (merge() may be called for some kinds first)

    # ---- staging
    def __enter__(self):
        self.cur = connection.cursor().cursor  # the psycopg cursor under Django's wrapper
        self.bulk = Bulk(self.cur, self._exec)
        # the COPY lasts as long as the file is read: the request-level statement timeout does not apply
        self.cur.execute(f"SET LOCAL statement_timeout = {IMPORT_STATEMENT_TIMEOUT_MS}")
        self.cur.execute(
            "SET LOCAL lock_timeout = 0"
        )  # an import waits for another one's tables rather than failing
        # the staging table lives in this session's local buffers (8 MB by default: a large file then
        # spills through the OS on every pass); takes effect if no temporary table was used before
        self.cur.execute(f"SET LOCAL temp_buffers = '{IMPORT_TEMP_BUFFERS}'")
        self.cur.execute(f"SET LOCAL work_mem = '{IMPORT_WORK_MEM}'")
        # the merge joins tens of thousands of staged rows on text keys: sorting them for a merge join
        # (which the planner picks when a JSON filter makes it expect few rows) took seconds
        self.cur.execute("SET LOCAL enable_mergejoin = off")
        # foreign keys checked as each statement ends rather than all at the commit: the checks of what
        # is merged while other parts are still read run on the otherwise idle core (importing/early.py)
        self.cur.execute("SET CONSTRAINTS ALL IMMEDIATE")
        self.cur.execute("DROP TABLE IF EXISTS imp_stage")
        for sql in CREATE_STAGE:
            self.cur.execute(sql)
        self._open_copy()
        return self

    def _open_copy(self) -> None:
        if self._cm is None:
            cols = ", ".join(STAGE_COLUMNS)
            self._cm = self.cur.copy(f"COPY imp_stage ({cols}) FROM STDIN")
            self._copy = self._cm.__enter__()

    def end_copy(self) -> None:
        """Finish the COPY now (SQL can run); staging more rows starts a new one."""
        self._flush()
        if self._cm is not None:
            self._cm.__exit__(None, None, None)
            self._cm = None

    def __exit__(self, exc_type, exc, tb):
        if self._cm is not None:
            self._cm.__exit__(exc_type, exc, tb)
            self._cm = None
        return False

    def stage(self, rec: Record) -> None:
        self._pending.append(copy_row(rec))
        self.staged += 1
        if not self.kinds_staged or self.kinds_staged[-1] != rec.kind:
            self.kinds_staged.append(rec.kind)
        if len(self._pending) >= 500:
            self._flush()

    def stage_copy_block(self, block: bytes) -> None:
        """Rows already in COPY text form (written by `copy_row` in another process), in any pieces."""
        self._flush()
        self._open_copy()
        self._copy.write(block)
        self.staged += block.count(b"\n")

    def _flush(self) -> None:
        if self._pending:
            self._open_copy()
            self._copy.write("".join(self._pending).encode())
            self._pending.clear()

    def finish_staging(self) -> None:
        self.end_copy()
        self.analyze_staged()

    def analyze_staged(self) -> None:
        # no indexes on the staging table: with one partition per kind every step is a hash join or a
        # scan of its own partition, and keeping indexes up to date cost more than they saved
        # statistics of the columns the merge joins and filters on (geometry and JSON would cost seconds)
        self._analyze_stage(
            "imp_stage (kind, namespace, local_id, official_id, version_id, status, start_version, "
            "end_version, end_object)"
        )

    def _analyze_stage(self, what: str) -> None:
        """Statistics of staging rows from a small sample: enough for the merge's plans (row counts are
        exact anyway), and a default-sized sample of 600 000 wide rows took a second."""
        self.cur.execute("SET LOCAL default_statistics_target = 10")
        self._exec(f"ANALYZE {what}")
        self.cur.execute("SET LOCAL default_statistics_target = DEFAULT")

    # ---- SQL helpers
    def _exec(self, sql: str | Composable, params: dict | None = None) -> int:
        t0 = time.monotonic()
        # a composed statement (importing/bulk.py) holds no placeholders: a `%` in it is literal
        self.cur.execute(sql, params or {}) if isinstance(sql, str) else self.cur.execute(sql, params)
        if TRACE:
            text = sql if isinstance(sql, str) else sql.as_string(self.cur)
            log.info("import SQL %.2f s: %s", time.monotonic() - t0, " ".join(text.split())[:160])
        return self.cur.rowcount

    def _scalar(self, sql: str, params: dict | None = None):
        self._exec(sql, params)
        row = self.cur.fetchone()
        return row[0] if row else None

    def _problems_from(
        self, sql: str, params: dict, severity: str, code: str, message: str, action: str
    ) -> int:
        self._exec(sql, params)
        rows = self.cur.fetchall()
        for kind, ident, line in rows:
            self.report.problem(
                severity, code, message % {"id": ident}, kind=kind, ident=ident, line=line, action=action
            )
        return len(rows)

    def _reject(self, rows: list[tuple], policy: str, code: str, message: str) -> None:
        """Staged rows just marked rejected (kind, id, line): the whole file fails under the strict
        policy, otherwise each is reported and counted."""
        if rows and policy == "strict":
            raise ImportFailed(message % {"id": rows[0][1]})
        for kind, ident, line in rows:
            self.report.problem(
                "error", code, message % {"id": ident}, kind=kind, ident=ident, line=line, action="rejected"
            )
            self.report.bump("rejected", kind)

    # ---- merge
    def merge(self, *, policy: str, kinds: set[str] | None = None, final: bool = True) -> None:
        """Merge the staged objects of `kinds` (all not merged yet by default) into the registry. The
        objects they refer to (early.DEPENDS_ON) must all be staged completely by then; history rows are written
        by the final call."""
        todo = sorted((set(kinds or KINDS) & set(KINDS)) - self.merged)
        self.bulk.enabled = self.staged >= BULK_MIN_ROWS
        # (one partition per kind: its first row answers)
        kinds_present = [k for k in todo if self._scalar(f"SELECT EXISTS (SELECT 1 FROM imp_stage_{k})")]
        changed = self._choose_versions(todo) + self._duplicates(policy, todo)
        if {"jrg", "parcel"} & set(todo):  # (shares look their registration units up in the staged rows)
            self._resolve_jrg()
        if changed:
            self._analyze_stage("imp_stage (kind, status)")  # statuses changed: plans below join on them
        self.merged |= set(todo)
        for kind in KINDS:
            if kind in ("jrg", "share") or kind not in kinds_present:
                continue
            if kind == "precinct":
                self._missing_units("precinct")
            if kind == "parcel":
                self._missing_precincts()
            self._merge_kind(kind, policy)
            if kind == "parcel":
                self._parcel_children()
                self._parcel_outside_precinct(policy)
            if kind == "building":
                self._building_parcels()
        if "share" in kinds_present:
            self._shares()
        if final:
            self._history_rows()

    def savepoint(self) -> None:
        self._exec("SAVEPOINT imp_early")

    def rollback_to_savepoint(self) -> None:
        """Undo everything since `savepoint()`: merged kinds, and rows staged since."""
        self._exec("ROLLBACK TO SAVEPOINT imp_early")
        self._exec("RELEASE SAVEPOINT imp_early")
        self.merged.clear()
        self.bulk.locked.clear()  # the locks taken since went with it

    def release_savepoint(self) -> None:
        self._exec("RELEASE SAVEPOINT imp_early")

    def _rows(self, sql: str, params: dict | None = None) -> list[tuple]:
        self._exec(sql, params)
        return self.cur.fetchall()

    def _choose_versions(self, kinds: list[str]) -> int:
        """Several versions of one lokalnyId: keep the open one (else the latest start), the rest → history.
        Returns how many staged rows changed status."""
        older = self._exec(
            """
            WITH several AS MATERIALIZED (SELECT kind, namespace, local_id FROM imp_stage WHERE kind = ANY(%(k)s)
                                          GROUP BY 1, 2, 3 HAVING count(*) > 1),
                 r AS (SELECT s.seq, s.kind, row_number() OVER (PARTITION BY s.kind, s.namespace, s.local_id
                         ORDER BY (s.end_version IS NULL) DESC, s.start_version DESC NULLS LAST, s.seq DESC) AS rn
                       FROM imp_stage s JOIN several USING (kind, namespace, local_id))
            UPDATE imp_stage s SET status = 'history' FROM r
            WHERE r.seq = s.seq AND r.kind = s.kind AND r.rn > 1""",
            {"k": kinds},
        )
        n = self._exec(
            "UPDATE imp_stage SET status = 'retire' WHERE kind = ANY(%(k)s) AND status = 'new' AND end_object IS NOT NULL",
            {"k": kinds},
        )
        if n:
            self.report.notes.append(_("%(n)s objects have koniecObiekt set and were retired.") % {"n": n})
        return older + n

    def _duplicates(self, policy: str, kinds: list[str]) -> int:
        """Two current objects of one kind with the same official identifier: keep the first. Returns how many."""
        sql = """
            WITH several AS MATERIALIZED (
                   SELECT kind, official_id FROM imp_stage
                   WHERE kind = ANY(%(k)s) AND status = 'new' AND official_id <> '' AND kind NOT IN ('address', 'subject', 'share')
                   GROUP BY 1, 2 HAVING count(*) > 1),
                 d AS (SELECT s.seq, s.kind, row_number() OVER (PARTITION BY s.kind, s.official_id ORDER BY s.seq) AS rn
                       FROM imp_stage s JOIN several USING (kind, official_id) WHERE s.status = 'new')
            UPDATE imp_stage s SET status = 'rejected', problem = 'duplicate' FROM d
            WHERE d.seq = s.seq AND d.kind = s.kind AND d.rn > 1 RETURNING s.kind, s.official_id, s.line"""
        self._exec(sql, {"k": kinds})
        rows = self.cur.fetchall()
        self._reject(
            rows,
            policy,
            "duplicate",
            _("Identifier %(id)s appears more than once in the file; this occurrence is rejected."),
        )
        return len(rows)

    def _resolve_jrg(self) -> None:
        """A parcel's JRG2 xlink → the registration unit's identifier and group, stored on the parcel."""
        self._exec("DROP TABLE IF EXISTS imp_jrg")  # a second import in one transaction (tests, savepoints)
        self._exec("""
            CREATE TEMP TABLE imp_jrg ON COMMIT DROP AS
            SELECT DISTINCT ON (namespace, local_id) namespace, local_id, official_id, (attrs->>'group')::smallint AS grp
            FROM imp_stage WHERE kind = 'jrg' AND status IN ('new', 'retire') ORDER BY namespace, local_id, seq""")
        self._exec("CREATE UNIQUE INDEX ON imp_jrg (namespace, local_id)")
        self._exec("ANALYZE imp_jrg")

    def _missing_units(self, source_kind: str) -> None:
        """Precincts (or parcels) whose cadastral unit is neither in the file nor in the register."""
        rows = self._rows(
            """
            SELECT DISTINCT split_part(s.official_id, '.', 1), min(s.namespace) FROM imp_stage s
            WHERE s.kind = %(k)s AND s.status = 'new' AND NOT EXISTS (
              SELECT 1 FROM layers_cadastralunit u WHERE u.unit_id = split_part(s.official_id, '.', 1) AND u.end_object IS NULL)
              AND NOT EXISTS (SELECT 1 FROM imp_stage x WHERE x.kind = 'unit' AND x.official_id = split_part(s.official_id, '.', 1))
            GROUP BY 1""",
            {"k": source_kind},
        )
        for unit, ns in rows:
            self._exec(
                """
                INSERT INTO layers_cadastralunit (local_id, namespace, version_id, unit_id, name, geom)
                SELECT %(lid)s, %(ns)s, '', %(u)s, %(u)s, ST_Multi(ST_CollectionExtract(ST_MakeValid(ST_Union(geom)), 3))
                FROM imp_stage WHERE kind = %(k)s AND status = 'new' AND official_id LIKE %(like)s""",
                {
                    "lid": str(uuid.uuid5(uuid.NAMESPACE_URL, f"unit:{ns}:{unit}")),
                    "ns": ns,
                    "u": unit,
                    "like": unit + ".%",
                    "k": source_kind,
                },
            )
            self.report.notes.append(
                _(
                    "Cadastral unit %(u)s is neither in the file nor in the register: created from its objects."
                )
                % {"u": unit}
            )

    def _missing_precincts(self) -> None:
        """Parcels whose precinct is neither in the file nor in the register: create it from its parcels."""
        rows = self._rows(f"""
            SELECT DISTINCT {PRECINCT_OF} FROM imp_stage s WHERE s.kind = 'parcel' AND s.status = 'new'
            AND NOT EXISTS (SELECT 1 FROM layers_precinct r WHERE r.precinct_id = {PRECINCT_OF} AND r.end_object IS NULL)""")
        if rows:
            self._missing_units("parcel")
        for (pid,) in rows:
            unit = pid.split(".")[0]
            ns = self._scalar(
                "SELECT namespace FROM imp_stage WHERE kind = 'parcel' AND official_id LIKE %(p)s LIMIT 1",
                {"p": pid + ".%"},
            )
            self._exec(
                """
                INSERT INTO layers_precinct (local_id, namespace, version_id, precinct_id, number, name, unit_id, geom)
                SELECT %(lid)s, %(ns)s, '', %(p)s, split_part(%(p)s, '.', 2), %(p)s,
                       (SELECT id FROM layers_cadastralunit WHERE unit_id = %(u)s AND end_object IS NULL),
                       ST_Multi(ST_CollectionExtract(ST_MakeValid(ST_Union(geom)), 3))
                FROM imp_stage WHERE kind = 'parcel' AND status = 'new' AND official_id LIKE %(like)s""",
                {
                    "lid": str(uuid.uuid5(uuid.NAMESPACE_URL, f"precinct:{ns}:{pid}")),
                    "ns": ns,
                    "p": pid,
                    "u": unit,
                    "like": pid + ".%",
                },
            )
            self.report.notes.append(
                _("Precinct %(p)s is neither in the file nor in the register: created from its parcels.")
                % {"p": pid}
            )

    def _merge_kind(self, kind: str, policy: str) -> None:
        spec = SPECS[kind]
        t = spec.table
        p = {"kind": kind, "job": self.job_id}
        # classify against the register
        known = self._exec(
            f"""
            UPDATE imp_stage s SET target_id = t.id,
              status = CASE WHEN s.status = 'retire' THEN 'retire'
                            WHEN t.version_id IS DISTINCT FROM s.version_id OR t.end_object IS NOT NULL THEN 'update'
                            ELSE 'unchanged' END
            FROM {t} t WHERE s.kind = %(kind)s AND s.status IN ('new', 'retire')
              AND t.namespace = s.namespace AND t.local_id = s.local_id""",
            p,
        )
        # rows still 'new' are inserted below; what refers to them later finds them by IIP identity
        # (rewriting every staged row to note its new id cost more than those joins)
        if known:
            self._analyze_stage(f"imp_stage_{kind} (status)")
        # retire what the file no longer holds (same kind and namespace, cadastral units the file covers)
        scope = ""
        if spec.scope_by_unit and spec.official:
            scope = f"AND split_part(t.{spec.official}, '.', 1) IN (SELECT DISTINCT split_part(official_id, '.', 1) FROM imp_stage WHERE kind = %(kind)s)"
        retired = self._exec(
            f"""
            UPDATE {t} t SET end_object = now() WHERE t.end_object IS NULL
              AND t.namespace IN (SELECT DISTINCT namespace FROM imp_stage WHERE kind = %(kind)s) {scope}
              AND NOT EXISTS (SELECT 1 FROM imp_stage s WHERE s.kind = %(kind)s AND s.namespace = t.namespace
                              AND s.local_id = t.local_id AND s.status <> 'history')""",
            p,
        )
        retired += self._exec(
            f"""
            UPDATE {t} t SET end_object = s.end_object, end_version = coalesce(s.end_version, s.end_object)
            FROM imp_stage s WHERE s.kind = %(kind)s AND s.status = 'retire' AND t.id = s.target_id AND t.end_object IS NULL""",
            p,
        )
        if retired:
            self.report.bump("retired", kind, retired)
        # identifiers held by another current object of the register
        if spec.official:
            self._exec(
                f"""
                UPDATE imp_stage s SET status = 'rejected', problem = 'conflict'
                WHERE s.kind = %(kind)s AND s.status IN ('new', 'update') AND EXISTS (
                  SELECT 1 FROM {t} t WHERE t.{spec.official} = s.official_id AND t.end_object IS NULL
                  AND NOT (t.namespace = s.namespace AND t.local_id = s.local_id))
                RETURNING s.kind, s.official_id, s.line""",
                p,
            )
            self._reject(
                self.cur.fetchall(),
                policy,
                "conflict",
                _("Identifier %(id)s is already held by another object in the register."),
            )
        if kind == "parcel":
            self._reject_without_precinct(policy)
        # earlier versions of updated rows go to history
        official = f"t.{spec.official}" if spec.official else "t.local_id"
        self._exec(
            f"""
            INSERT INTO layers_registryhistory (kind, namespace, local_id, version_id, start_version, end_version, official_id,
                                                data, geom, recorded_at, job_id)
            SELECT %(kind)s, t.namespace, t.local_id, t.version_id, t.start_version, coalesce(s.start_version, now()), {official},
                   to_jsonb(t) - 'geom', {"t.geom" if spec.geom else "NULL"}, now(), %(job)s
            FROM {t} t JOIN imp_stage s ON s.target_id = t.id AND s.kind = %(kind)s AND s.status = 'update'
            ON CONFLICT DO NOTHING""",
            p,
        )
        cols = list(spec.columns)
        geom_set = f", geom = {spec.geom}" if spec.geom else ""
        sets = ", ".join(f"{c} = {spec.columns[c]}" for c in cols)
        updated = self._exec(
            f"""
            UPDATE {t} SET version_id = s.version_id, start_object = s.start_object, start_version = s.start_version,
                   end_version = s.end_version, end_object = NULL, {sets}{geom_set}
            FROM imp_stage s {spec.joins} WHERE s.kind = %(kind)s AND s.status = 'update' AND {t}.id = s.target_id""",
            p,
        )
        insert_cols = ", ".join([*IIP, *cols, *(["geom"] if spec.geom else [])])
        select_cols = ", ".join(
            [*(f"s.{c}" for c in IIP), *(spec.columns[c] for c in cols), *([spec.geom] if spec.geom else [])]
        )
        with self.bulk.into(t):
            inserted = self._exec(
                f"""
                INSERT INTO {t} ({insert_cols})
                SELECT {select_cols} FROM imp_stage s {spec.joins} WHERE s.kind = %(kind)s AND s.status = 'new'""",
                p,
            )
        if inserted > 500:
            # fresh statistics, or later joins plan for an empty table (nested loops over seq scans) -
            # in this import and in the next one, which may come before autovacuum (without it, the
            # retirement step of a re-import ran for minutes on a table thought to hold 200 rows).
            # Not of the geometry, which no join of an import uses: a third to half of the ANALYZE;
            # autovacuum's analyze after the commit (the table changed by far more than 10 %) adds it.
            self._exec(f"ANALYZE {t} ({', '.join(['id', *IIP, *cols])})")
        unchanged = known and self._scalar(
            "SELECT count(*) FROM imp_stage WHERE kind = %(kind)s AND status = 'unchanged'", p
        )
        if updated + inserted:
            self.report.bump("written", kind, updated + inserted)
        if unchanged:
            self.report.bump("unchanged", kind, unchanged)

    def _reject_without_precinct(self, policy: str) -> None:
        self._exec(f"""
            UPDATE imp_stage s SET status = 'rejected', problem = 'no_precinct'
            WHERE s.kind = 'parcel' AND s.status IN ('new', 'update') AND NOT EXISTS (
              SELECT 1 FROM layers_precinct r WHERE r.precinct_id = {PRECINCT_OF} AND r.end_object IS NULL)
            RETURNING s.kind, s.official_id, s.line""")
        self._reject(
            self.cur.fetchall(),
            policy,
            "no_precinct",
            _("The precinct of parcel %(id)s is not in the register."),
        )

    def _parcel_children(self) -> None:
        """Land-use classes and KW numbers of inserted or updated parcels are replaced."""
        self._exec("""DELETE FROM layers_parcellanduse l USING imp_stage s
                      WHERE s.kind = 'parcel' AND s.status = 'update' AND l.parcel_id = s.target_id""")
        with self.bulk.into("layers_parcellanduse"):
            self._exec(f"""
                INSERT INTO layers_parcellanduse (parcel_id, ofu, ozu, ozk, area_ha)
                SELECT x.id, u->>'ofu', coalesce(u->>'ozu', ''), coalesce(u->>'ozk', ''), (u->>'area_ha')::numeric
                FROM imp_stage s {_written("layers_parcel")} CROSS JOIN LATERAL jsonb_array_elements(s.attrs->'land_uses') u
                WHERE s.kind = 'parcel' AND s.status IN ('new', 'update')""")
        self._exec("""DELETE FROM layers_restrictedlandregisterentry k USING imp_stage s
                      WHERE s.kind = 'parcel' AND s.status = 'update' AND k.parcel_id = s.target_id""")
        with self.bulk.into("layers_restrictedlandregisterentry"):
            self._exec(f"""
                INSERT INTO layers_restrictedlandregisterentry (parcel_id, kw_number)
                SELECT x.id, kw FROM imp_stage s {_written("layers_parcel")} CROSS JOIN LATERAL jsonb_array_elements_text(s.attrs->'kw') kw
                WHERE s.kind = 'parcel' AND s.status IN ('new', 'update')""")

    def _parcel_outside_precinct(self, policy: str) -> None:
        n = self._problems_from(
            f"""
            WITH s AS MATERIALIZED (SELECT official_id, line, geom, {PRECINCT_OF} AS precinct FROM imp_stage s
                                    WHERE s.kind = 'parcel' AND s.status IN ('new', 'update'))
            SELECT 'parcel', s.official_id, s.line FROM s JOIN layers_precinct r
              ON r.precinct_id = s.precinct AND r.end_object IS NULL
            WHERE r.version_id <> ''
              AND NOT ST_Covers(r.geom, s.geom)  -- the precinct repeats: PostGIS prepares it once
              AND ST_Area(ST_Difference(s.geom, r.geom)) > greatest(1.0, 0.001 * ST_Area(s.geom))""",
            {},
            "warning",
            "outside_precinct",
            _("Parcel %(id)s lies partly outside its precinct."),
            "kept",
        )
        if n and policy == "strict":
            raise ImportFailed(_("%(n)s parcels lie partly outside their precincts.") % {"n": n})

    def _building_parcels(self) -> None:
        self._exec("""DELETE FROM layers_building_parcels bp USING imp_stage s
                      WHERE s.kind = 'building' AND s.status = 'update' AND bp.building_id = s.target_id""")
        with self.bulk.into("layers_building_parcels"):
            self._exec(f"""
                INSERT INTO layers_building_parcels (building_id, parcel_id)
                SELECT DISTINCT x.id, p.id FROM imp_stage s {_written("layers_building")}
                CROSS JOIN LATERAL jsonb_array_elements(s.refs->'parcels') r
                JOIN layers_parcel p ON p.namespace = r->>0 AND p.local_id = r->>1 AND p.end_object IS NULL
                WHERE s.kind = 'building' AND s.status IN ('new', 'update')
                ON CONFLICT DO NOTHING""")
        self._exec(f"""
            INSERT INTO layers_restrictedlandregisterentry (building_id, kw_number)
            SELECT x.id, kw FROM imp_stage s {_written("layers_building")} CROSS JOIN LATERAL jsonb_array_elements_text(s.attrs->'kw') kw
            WHERE s.kind = 'building' AND s.status = 'new'""")

    def _shares(self) -> None:
        """Shares of subjects written by this import, linked to the registration unit's identifier."""
        self._exec("""
            DELETE FROM layers_restrictedshare sh USING imp_stage s
            WHERE s.kind = 'subject' AND s.status = 'update' AND sh.subject_id = s.target_id""")
        # materialised CTEs: the planner hash-joins them instead of looping over JSON expressions
        with self.bulk.into("layers_restrictedshare"):
            n = self._exec(f"""
                WITH sh AS MATERIALIZED (
                       SELECT attrs, refs->'subject'->0->>0 AS sns, refs->'subject'->0->>1 AS sid,
                              refs->'jrg'->0->>0 AS jns, refs->'jrg'->0->>1 AS jid
                       FROM imp_stage WHERE kind = 'share' AND status = 'new'),
                     subj AS MATERIALIZED (
                       SELECT s.namespace, s.local_id, x.id AS target_id FROM imp_stage s {_written("layers_restrictedsubject")}
                       WHERE s.kind = 'subject' AND s.status IN ('new', 'update')),
                     j AS MATERIALIZED (SELECT namespace, local_id, official_id FROM imp_stage WHERE kind = 'jrg')
                INSERT INTO layers_restrictedshare (subject_id, registration_unit, kind, "right", numerator, denominator)
                SELECT subj.target_id, coalesce(j.official_id, ''), sh.attrs->>'kind', coalesce(sh.attrs->>'right', ''),
                       (sh.attrs->>'numerator')::int, (sh.attrs->>'denominator')::int
                FROM sh JOIN subj ON subj.namespace = sh.sns AND subj.local_id = sh.sid
                LEFT JOIN j ON j.namespace = sh.jns AND j.local_id = sh.jid
                WHERE (sh.attrs->>'numerator')::int BETWEEN 1 AND (sh.attrs->>'denominator')::int""")
        if n:
            self.report.bump("written", "share", n)

    def _history_rows(self) -> None:
        n = self._exec(
            """
            INSERT INTO layers_registryhistory (kind, namespace, local_id, version_id, start_version, end_version, official_id,
                                                data, geom, recorded_at, job_id)
            SELECT kind, namespace, local_id, version_id, start_version, end_version, official_id, attrs, geom, now(), %(job)s
            FROM imp_stage WHERE status = 'history'
            ON CONFLICT DO NOTHING""",
            {"job": self.job_id},
        )
        if n:
            for kind, count in self._rows(
                "SELECT kind, count(*) FROM imp_stage WHERE status = 'history' GROUP BY kind"
            ):
                self.report.bump("history", kind, count)
