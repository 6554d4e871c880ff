"""Read replicas: read-only OGC and search traffic goes to a streaming replica when one is configured
(DATABASE_REPLICA_URL → the database alias `replica`); everything else goes to the primary.

- `ReplicaMiddleware` marks a request as replica-eligible when it only reads (GET/HEAD), asks for an OGC or
  search address (`READ_PATHS`) and its client wrote nothing a moment ago: any unsafe request (POST, …)
  sets a short-lived cookie (`PIN_COOKIE`, `PIN_SECONDS`) under which that client reads from the primary, so
  a person sees their own write at once whatever the replica's lag.
- `ReplicaRouter.db_for_read` then answers `replica` for models outside the accounts and sessions apps,
  as long as the replica answers; `read_alias()` gives the same answer to code that runs SQL itself (WFS
  counts, the INSPIRE boundaries, vector tiles, whose WSGI front decides the same way, and the WMS, whose
  Mapnik maps are built per database and drawn again from the primary if the replica's connection breaks).
- A replica that does not answer is left alone for `RETRY_SECONDS` (logged once) and the reads go to the
  primary meanwhile, without an error. Writes and migrations always go to the primary.
"""

from __future__ import annotations

import logging
import threading
import time
from contextvars import ContextVar

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections

log = logging.getLogger("gisportal.replica")
REPLICA = "replica"
PIN_COOKIE = "gp_primary"
PIN_SECONDS = 15
RETRY_SECONDS = 10.0
READ_PATHS = ("/ows", "/wms", "/wfs", "/ogcapi/", "/csw", "/api/search", "/api/parcels/")
# sessions, accounts and login throttling are read where they are written
PRIMARY_APPS = frozenset({"sessions", "auth", "core", "axes", "admin", "contenttypes"})
_SAFE_METHODS = ("GET", "HEAD", "OPTIONS")

_alias: ContextVar[str] = ContextVar("gisportal_read_alias", default=DEFAULT_DB_ALIAS)
_state = {"down_until": 0.0, "down": False}
_lock = threading.Lock()
VERIFIED_SECONDS = 2.0  # a connection checked this recently is not checked again (a tile costs ~1 ms)
_verified = threading.local()


def configured() -> bool:
    return settings.GISPORTAL_READ_REPLICA


def _available() -> bool:
    """Does the replica answer (once per request)? A failure opens a pause of RETRY_SECONDS."""
    if time.monotonic() < _state["down_until"]:
        return False
    conn = connections[REPLICA]
    now = time.monotonic()
    if conn.connection is not None and conn.connection is getattr(_verified, "raw", None):
        if now - _verified.at < VERIFIED_SECONDS:
            return True
    try:
        if conn.connection is not None and not conn.is_usable():
            conn.close()
        conn.ensure_connection()
        _verified.raw, _verified.at = conn.connection, now
    except Exception as e:  # any failure to connect: the primary serves meanwhile
        with _lock:
            _state["down_until"] = time.monotonic() + RETRY_SECONDS
            if not _state["down"]:
                _state["down"] = True
                log.error("The read replica does not answer (%s); reads go to the primary.", type(e).__name__)
        try:
            conn.close()
        except Exception:  # noqa: S110 - a broken connection may fail to close; it is dropped either way
            pass
        return False
    if _state["down"]:
        with _lock:
            _state["down"] = False
        log.warning("The read replica answers again.")
    return True


def read_alias() -> str:
    """The database this request's reads go to (decided once per request by `reads_from_replica`)."""
    return _alias.get()


class ReplicaRouter:
    def db_for_read(self, model, **hints):
        if model is not None and model._meta.app_label in PRIMARY_APPS:
            return DEFAULT_DB_ALIAS
        return read_alias()

    def db_for_write(self, model, **hints):
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints):
        return True  # one database, two copies of it

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == DEFAULT_DB_ALIAS


def eligible(method: str, path: str, cookies) -> bool:
    return method in _SAFE_METHODS and path.startswith(READ_PATHS) and PIN_COOKIE not in cookies


class reads_from_replica:
    """Context manager: the reads inside go to the replica when `allowed`, one is configured and it answers
    (checked once, here); the tiles' WSGI front uses it as the middleware does."""

    def __init__(self, allowed: bool = True):
        self.allowed = allowed

    def __enter__(self):
        use = self.allowed and configured() and _available()
        self._token = _alias.set(REPLICA if use else DEFAULT_DB_ALIAS)
        return self

    def __exit__(self, *exc):
        _alias.reset(self._token)


class ReplicaMiddleware:
    """Marks replica-eligible requests; pins a client that writes to the primary for PIN_SECONDS."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not configured():
            return self.get_response(request)
        with reads_from_replica(eligible(request.method, request.path, request.COOKIES)):
            response = self.get_response(request)
        if request.method not in _SAFE_METHODS:
            response.set_cookie(PIN_COOKIE, "1", max_age=PIN_SECONDS, httponly=True, samesite="Lax")
        return response
