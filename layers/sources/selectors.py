"""Reads of remote sources."""

from __future__ import annotations

from urllib.parse import urlsplit

from layers.models import RemoteSource


def origin(url: str) -> tuple[str, str, int]:
    """Scheme, host and port of an address (the default port filled in)."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    return scheme, (parts.hostname or "").lower(), parts.port or {"http": 80, "https": 443}.get(scheme, 0)


def source_list(office_code: str | None = None):
    sources = RemoteSource.objects.all()
    if office_code is not None:
        sources = sources.filter(office_code=office_code)
    return sources.order_by("-added_at", "-pk")


def source_get(source_id: int) -> RemoteSource:
    return RemoteSource.objects.get(pk=source_id)


def source_origins() -> set[tuple[str, str, int]]:
    """Scheme, host and port of every registered source: the only places the outbound client goes."""
    return {origin(url) for url in RemoteSource.objects.values_list("url", flat=True)}


def source_layers(source: RemoteSource) -> list[dict]:
    """The source's layers as last read, each with `chosen` set."""
    chosen = set(source.chosen or [])
    return [
        {**layer, "chosen": layer.get("name") in chosen}
        for layer in (source.capabilities or {}).get("layers", [])
    ]
