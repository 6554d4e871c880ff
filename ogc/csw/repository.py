"""pycsw's repository for our records: an in-memory SQLite table per process, (re)built from the ISO
19139 records of the published data sets (ogc/metadata.py) whenever the data or the staff's metadata
changed (key: the data version, the layer list and the metadata's latest save).

pycsw 2.6's own repository needs SQLAlchemy 1.x (pygeoapi brings 2.x) and its ISO loader needs OWSLib
before 0.29 (we have a newer one), so pycsw is given a repository of its own (`[repository] source`,
pycsw's plug-in point) with the same interface and the same table columns; the queryable columns are
filled from the description the record was written from (ogc.metadata.describe), the XML column holds
the record itself. pycsw turns a filter into a WHERE clause with bound values; it runs here on the
standard library's sqlite3, read-only: an authorizer lets only SELECTs, reads and a list of functions
through, and a progress handler stops a query after QUERY_SECONDS. Transactions and harvesting are off
(the service is read-only), so insert/update/delete refuse.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Iterable

from shapely import wkt as shapely_wkt
from shapely.errors import ShapelyError

LOGGER = logging.getLogger(__name__)
QUERY_SECONDS = 5.0
MAX_IDS = 100
TABLE = "records"
# the columns of pycsw's records table (pycsw.core.admin.setup_db), all text here
COLUMNS = (
    "identifier typename schema mdsource insert_date xml anytext language type title title_alternate "
    "abstract keywords keywordstype parentidentifier relation time_begin time_end topicategory "
    "resourcelanguage creator publisher contributor organization securityconstraints accessconstraints "
    "otherconstraints date date_revision date_creation date_publication date_modified format source crs "
    "geodescode denominator distancevalue distanceuom wkt_geometry servicetype servicetypeversion "
    "operation couplingtype operateson operatesonidentifier operatesoname degree classification "
    "conditionapplyingtoaccessanduse lineage responsiblepartyrole specificationtitle specificationdate "
    "specificationdatetype links"
).split()
_FUNCTIONS = frozenset(
    {
        "query_spatial",
        "get_geometry_area",
        "get_spatial_overlay_rank",
        "like",
        "glob",
        "lower",
        "upper",
        "count",
        "min",
        "max",
        "length",
        "trim",
        "ltrim",
        "rtrim",
        "substr",
        "coalesce",
        "ifnull",
    }
)


# ---------------------------------------------------------------- SQL functions pycsw's filters call
def query_spatial(bbox_data_wkt, bbox_input_wkt, predicate, distance):
    """pycsw.core.repository.query_spatial (its module cannot be imported with SQLAlchemy 2)."""
    try:
        bbox1 = shapely_wkt.loads(str(bbox_data_wkt).split(";")[-1])
        bbox2 = shapely_wkt.loads(str(bbox_input_wkt))
        if predicate in ("bbox", "intersects"):
            result = bbox1.intersects(bbox2)
        elif predicate == "beyond":
            result = bbox1.distance(bbox2) > float(distance)
        elif predicate == "dwithin":
            result = bbox1.distance(bbox2) <= float(distance)
        elif predicate == "overlaps":
            result = bbox1.intersects(bbox2) and not bbox1.touches(bbox2)
        elif predicate in ("contains", "crosses", "disjoint", "equals", "touches", "within"):
            result = getattr(bbox1, predicate)(bbox2)
        else:
            result = False
    except (AttributeError, ValueError, TypeError, ShapelyError):
        result = False
    return "true" if result else "false"


def get_geometry_area(geometry):
    try:
        return shapely_wkt.loads(str(geometry).split(";")[-1]).area if geometry else 0
    except (ValueError, TypeError, ShapelyError):
        return 0


def get_spatial_overlay_rank(target_geometry, query_geometry):
    return 0  # spatial ranking is off (server.spatial_ranking)


class ReadOnlyRepository(RuntimeError):
    pass


class Record:
    """A row as pycsw reads it: one attribute per column."""

    def __init__(self, values: dict):
        for column in COLUMNS:
            setattr(self, column, values.get(column))


class Store:
    """One in-memory database of the records, queried under a lock (a few dozen rows: no contention)."""

    def __init__(self, rows: Iterable[dict]):
        self._lock = threading.Lock()
        self._deadline = 0.0
        conn = sqlite3.connect(":memory:", check_same_thread=False)
        conn.execute(
            f"CREATE TABLE {TABLE} ({', '.join(c + (' TEXT PRIMARY KEY' if c == 'identifier' else ' TEXT') for c in COLUMNS)})"
        )
        marks = ", ".join("?" for _ in COLUMNS)
        conn.executemany(
            f"INSERT INTO {TABLE} ({', '.join(COLUMNS)}) VALUES ({marks})",  # noqa: S608 (constant columns)
            [tuple(row.get(c) for c in COLUMNS) for row in rows],
        )
        conn.commit()
        for fn in (query_spatial, get_geometry_area, get_spatial_overlay_rank):
            conn.create_function(fn.__name__, fn.__code__.co_argcount, fn, deterministic=True)
        conn.execute("PRAGMA query_only = ON")
        conn.set_authorizer(self._authorize)
        conn.set_progress_handler(self._progress, 1000)
        self.conn = conn

    @staticmethod
    def _authorize(action, arg1, arg2, dbname, source):
        if action in (sqlite3.SQLITE_SELECT, sqlite3.SQLITE_READ):
            return sqlite3.SQLITE_OK
        if action == sqlite3.SQLITE_FUNCTION and (arg2 or "").lower() in _FUNCTIONS:
            return sqlite3.SQLITE_OK
        return sqlite3.SQLITE_DENY

    def _progress(self):
        return 1 if time.monotonic() > self._deadline else 0

    def select(self, sql: str, params=()) -> list[tuple]:
        with self._lock:
            self._deadline = time.monotonic() + QUERY_SECONDS
            return self.conn.execute(sql, params).fetchall()

    def records(self, sql: str, params=()) -> list[Record]:
        return [Record(dict(zip(COLUMNS, row, strict=True))) for row in self.select(sql, params)]


_SELECT = f"SELECT {', '.join(COLUMNS)} FROM {TABLE}"  # noqa: S608 (constant columns)
_store_lock = threading.Lock()
_store: tuple[object, Store] | None = None


def store_for(key, rows_factory) -> Store:
    """The store of this key, built from rows_factory() when the key changed."""
    global _store
    with _store_lock:
        if _store is None or _store[0] != key:
            _store = (key, Store(rows_factory()))
        return _store[1]


class Repository:
    """pycsw's repository interface (pycsw/core/repository.py) over the current Store. pycsw makes one per
    request with (context, repo_filter); ogc.csw.service.dispatch has set the store for this request."""

    current: threading.local = threading.local()

    def __init__(self, context, repo_filter=None):
        self.context = context
        self.filter = None
        self.fts = False
        self.dbtype = "sqlite"
        self.dataset = Record
        self.store: Store = Repository.current.store
        self.queryables: dict[str, dict] = {}
        for tname in context.model["typenames"]:
            for qname, qvalue in context.model["typenames"][tname]["queryables"].items():
                self.queryables.setdefault(qname, {}).update(qvalue)
        self.queryables["_all"] = {}
        for qbl in list(self.queryables):
            if qbl != "_all":
                self.queryables["_all"].update(self.queryables[qbl])
        self.queryables["_all"].update(context.md_core_model["mappings"])

    def _column(self, name: str) -> str:
        if name not in COLUMNS:
            raise RuntimeError("Unknown property")
        return name

    def _mapped(self, key: str) -> str:
        return self._column(self.context.md_core_model["mappings"][key])

    # ---- reads
    def query_ids(self, ids):
        ids = [str(i) for i in list(ids)[:MAX_IDS]]
        if not ids:
            return []
        marks = ", ".join("?" for _ in ids)
        return self.store.records(f"{_SELECT} WHERE {self._mapped('pycsw:Identifier')} IN ({marks})", ids)

    def query_domain(self, domain, typenames, domainquerytype="list", count=False):
        if domain not in COLUMNS:  # pycsw passes a client's property name through when it maps to none
            return []
        if domainquerytype == "range":
            return self.store.select(f"SELECT min({domain}), max({domain}) FROM {TABLE}")  # noqa: S608
        if count:
            return self.store.select(f"SELECT {domain}, count({domain}) FROM {TABLE} GROUP BY {domain}")  # noqa: S608
        return self.store.select(f"SELECT DISTINCT {domain} FROM {TABLE}")  # noqa: S608

    def query_insert(self, direction="max"):
        fn = "min" if direction == "min" else "max"
        return self.store.select(f"SELECT {fn}({self._mapped('pycsw:InsertDate')}) FROM {TABLE}")[0][0]  # noqa: S608

    def query_source(self, source):
        return self.store.records(f"{_SELECT} WHERE {self._mapped('pycsw:Source')} = ?", (str(source),))

    def query(self, constraint, sortby=None, typenames=None, maxrecords=10, startposition=0):
        where, params = "", {}
        if "where" in constraint:
            # pycsw's filter translation: its SQL with :pvalueN placeholders and the values apart
            where = f" WHERE {constraint['where']}"
            params = {f"pvalue{n}": v for n, v in enumerate(constraint["values"])}
        total = self.store.select(f"SELECT count(*) FROM {TABLE}{where}", params)[0][0]  # noqa: S608
        order = ""
        if sortby is not None:
            column = self._column(sortby["propertyname"])
            expr = f"get_geometry_area({column})" if sortby.get("spatial") else column
            order = f" ORDER BY {expr} {'DESC' if sortby.get('order') == 'DESC' else 'ASC'}"
        limit = max(0, int(maxrecords))
        offset = max(0, int(startposition))
        rows = self.store.records(f"{_SELECT}{where}{order} LIMIT {limit} OFFSET {offset}", params)
        return [str(total), rows]

    # ---- writes: the CSW is read-only
    def insert(self, *args, **kwargs):
        raise ReadOnlyRepository("The catalogue is read-only.")

    update = delete = insert
