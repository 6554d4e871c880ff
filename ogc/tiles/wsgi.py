"""Vector tiles past Django's request handling: the WSGI application (gisportal.wsgi) answers tile
paths here, the same as the view (views.answer) but without building a request, running middleware
or sending signals, and on a database connection it keeps for up to a minute instead of taking it
from the pool and giving it back for every tile. A small tile's query costs less than a millisecond,
and those steps cost about as much again (bench/RESULTS.md). Everything else goes to Django unchanged."""

from __future__ import annotations

import logging
import re
import threading
import time
from http import HTTPStatus
from urllib.parse import parse_qsl

import psycopg
from django.conf import settings
from django.db import DatabaseError, connections
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation.trans_real import parse_accept_lang_header

from gisportal.core import replica

from .views import Reply, _problem_reply, answer

log = logging.getLogger(__name__)
PATH = re.compile(r"/ogcapi/collections/([^/]+)/tiles/([^/]+)/([0-9]{1,3})/([0-9]{1,9})/([0-9]{1,9})")
HOLD_SECONDS = 60.0  # then the connection goes back to the pool (which renews connections by age)
_held = threading.local()
# what Django's security middleware adds to every response (settings: nosniff, same-origin)
SECURITY_HEADERS = [
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "same-origin"),
    ("Cross-Origin-Opener-Policy", "same-origin"),
]


class TileFastPath:
    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        m = PATH.fullmatch(environ.get("PATH_INFO", ""))
        if m is None:
            return self.app(environ, start_response)
        method = environ.get("REQUEST_METHOD", "GET")
        if method not in ("GET", "HEAD"):
            reply = Reply(405, {"Allow": "GET, HEAD"})
        else:
            language = _language(environ)
            with translation.override(language):
                reply = self._answer(m, environ)
            if reply.status >= 400:  # problem texts in the language asked for (Polish first)
                reply = Reply(
                    reply.status,
                    {**reply.headers, "Content-Language": language, "Vary": "Accept-Language"},
                    reply.body,
                )
        headers = [*reply.headers.items(), *SECURITY_HEADERS, ("Content-Length", str(len(reply.body)))]
        start_response(f"{reply.status} {HTTPStatus(reply.status).phrase}", headers)
        return [b""] if method == "HEAD" or not reply.body else [reply.body]

    @staticmethod
    def _answer(m: re.Match, environ) -> Reply:
        collection_id, tms, z, y, x = m.groups()
        params = [k for k, _v in parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True)]
        # a read replica (if configured) unless this client wrote a moment ago, as the middleware decides
        replica_ok = replica.PIN_COOKIE not in environ.get("HTTP_COOKIE", "")
        used = set()
        try:
            for attempt in (1, 2):
                with replica.reads_from_replica(replica_ok):
                    alias = replica.read_alias()
                    used.add(alias)
                    try:
                        return answer(
                            collection_id,
                            tms,
                            int(z),
                            int(y),
                            int(x),
                            params,
                            environ.get("HTTP_IF_NONE_MATCH"),
                        )
                    except Exception as e:
                        database = isinstance(e, DatabaseError | psycopg.Error)
                        if database:
                            connections[alias].close()  # a fresh connection for the next try or request
                            _held_connections().pop(alias, None)
                        if database and attempt == 1:
                            continue  # the held connection broke (a restart, a replica gone): once more
                        log.exception("tile %s", environ.get("PATH_INFO"))
                        reply = _problem_reply(503, _("The tile cannot be rendered now; try again later."))
                        reply.headers["Retry-After"] = "5"
                        return reply
            raise AssertionError("unreachable")
        finally:
            for alias in used:
                _release(alias, reuses_threads=not environ.get("wsgi.multithread", True))


def _language(environ) -> str:
    """The first of the portal's languages in Accept-Language, else the default (Polish)."""
    for code, _q in parse_accept_lang_header(environ.get("HTTP_ACCEPT_LANGUAGE", "")):
        if code == "*":
            break
        try:
            return translation.get_supported_language_variant(code)
        except LookupError:
            continue
    return settings.LANGUAGE_CODE


def _release(alias: str, *, reuses_threads: bool) -> None:
    """Keep this thread's connection (per database: the primary, a replica) for the next tile, up to
    HOLD_SECONDS after it was opened (a Django request in the same thread gives it back to the pool as it
    starts, as it always does). Only under a server whose one thread serves every request of the process
    (gunicorn's sync workers, which `make demo` runs): a server with a thread per connection (runserver)
    would take a pooled connection per thread and never give it back, so there it goes back after each
    tile."""
    connection, kept = connections[alias], _held_connections()
    raw, now = connection.connection, time.monotonic()
    held = kept.get(alias)
    if not reuses_threads:
        if raw is not None and not connection.in_atomic_block:
            connection.close()
        kept.pop(alias, None)
    elif raw is None:
        kept.pop(alias, None)
    elif held is None or held[0] is not raw:
        kept[alias] = (raw, now)
    elif now - held[1] > HOLD_SECONDS and not connection.in_atomic_block:
        connection.close()
        kept.pop(alias, None)


def _held_connections() -> dict:
    """This thread's held connections by database alias: (raw connection, since when)."""
    if not hasattr(_held, "raw"):
        _held.raw = {}
    return _held.raw
