"""The cache, optional at run time: Django's Redis backend that answers as an empty cache while Redis is
unreachable, so every page, OGC and API request is answered from the database (slower), never with a 500.

A failed call opens a short circuit (`RETRY_SECONDS`): calls in it skip Redis at once instead of waiting for
a connection each; the first call after it tries Redis again. The outage is logged once when it starts and
once when it ends. While Redis is away: `get` misses, `add` and `set` store nothing, `incr` raises
ValueError as for a missing key (the callers' counters then count from 1: the rate limits fail open for the
outage, which the log says). Nothing is lost meanwhile: the data version caches key on is in the database
(layers.models.DataVersion), so an import during the outage invalidates what was cached before it.

django-redis's IGNORE_EXCEPTIONS does the same for its own backend, but logs a traceback per failed call,
returns None from `incr` and retries the connection on every call; this is Django's own backend with the
failure handling around it.
"""

from __future__ import annotations

import logging
import threading
import time

from django.core.cache.backends.redis import RedisCache
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

log = logging.getLogger("gisportal.cache")
RETRY_SECONDS = 5.0
_FAILURES = (RedisConnectionError, RedisTimeoutError, OSError)


class ResilientRedisCache(RedisCache):
    """RedisCache that degrades to a miss while Redis is unreachable (see the module docstring)."""

    def __init__(self, server, params):
        super().__init__(server, params)
        self._down_until = 0.0
        self._down = False
        self._lock = threading.Lock()

    @property
    def unavailable(self) -> bool:
        """True while this process sees Redis as unreachable."""
        return self._down

    def _call(self, name: str, fallback, *args, **kwargs):
        if self._down and time.monotonic() < self._down_until:
            return fallback()
        try:
            result = getattr(super(), name)(*args, **kwargs)
        except _FAILURES as e:
            with self._lock:
                self._down_until = time.monotonic() + RETRY_SECONDS
                if not self._down:
                    self._down = True
                    log.error(
                        "The cache (Redis) is unreachable (%s): answering without it, rate limits open, "
                        "retrying every %.0f s.",
                        type(e).__name__,
                        RETRY_SECONDS,
                    )
            return fallback()
        if self._down:
            with self._lock:
                recovered, self._down = self._down, False
            if recovered:
                log.warning("The cache (Redis) is reachable again.")
        return result

    def get(self, key, default=None, version=None):
        return self._call("get", lambda: default, key, default, version)

    def add(self, key, value, *args, **kwargs):
        return self._call("add", lambda: False, key, value, *args, **kwargs)

    def set(self, key, value, *args, **kwargs):
        return self._call("set", lambda: None, key, value, *args, **kwargs)

    def touch(self, key, *args, **kwargs):
        return self._call("touch", lambda: False, key, *args, **kwargs)

    def delete(self, key, version=None):
        return self._call("delete", lambda: False, key, version)

    def get_many(self, keys, version=None):
        return self._call("get_many", dict, keys, version)

    def has_key(self, key, version=None):
        return self._call("has_key", lambda: False, key, version)

    def incr(self, key, delta=1, version=None):
        def missing():
            raise ValueError(f"Key '{key}' not found (the cache is unreachable).")

        return self._call("incr", missing, key, delta, version)

    def set_many(self, data, *args, **kwargs):
        return self._call("set_many", list, data, *args, **kwargs)

    def delete_many(self, keys, version=None):
        return self._call("delete_many", lambda: None, keys, version)

    def clear(self):
        return self._call("clear", lambda: None)
