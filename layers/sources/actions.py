"""Writes of remote sources: register (fetch and read the capabilities first; nothing is stored when that
fails), refresh, choose the layers to use."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from gisportal.core.errors import InvalidInput, NotFound
from layers.models import RemoteSource

from . import capabilities
from .http import SourceError, normalise_url

KINDS = tuple(RemoteSource.Kind.values)


def source_url(url: str, kind: str) -> str:
    """The stored form of a source's address: normalised; for OGC API the landing page (no /collections)."""
    if kind not in KINDS:
        raise SourceError(
            _("Unknown kind of source %(kind)s: use wms, wfs or ogcapi.") % {"kind": kind}, code="kind"
        )
    url = normalise_url(url)
    if kind == "ogcapi":
        parts = urlsplit(url)
        path = parts.path.rstrip("/")
        if path.endswith("/collections"):
            path = path[: -len("/collections")]
        url = urlunsplit((parts.scheme, parts.netloc, path or "/", parts.query, ""))
    if len(url) > 500:
        raise SourceError(_("The address is too long."), code="invalid_url")
    return url


def source_add(url: str, kind: str, *, user=None, office_code: str = "") -> RemoteSource:
    """Register a source: its capabilities are fetched and read first; SourceError (nothing stored) when the
    address is refused, the source cannot be read, or it is already registered."""
    url = source_url(url, kind)
    if RemoteSource.objects.filter(url=url, kind=kind).exists():
        raise SourceError(_("This source is already registered."), code="duplicate")
    caps = capabilities.fetch_and_read(kind, url, registering=True)
    try:
        with transaction.atomic():
            return RemoteSource.objects.create(
                kind=kind,
                url=url,
                title=(caps.get("service_title") or url)[:300],
                added_by=user if user is not None and user.is_authenticated else None,
                office_code=office_code or "",
                status=RemoteSource.Status.OK,
                last_checked_at=timezone.now(),
                capabilities=caps,
            )
    except IntegrityError:
        raise SourceError(_("This source is already registered."), code="duplicate") from None


def _get(source_id: int) -> RemoteSource:
    try:
        return RemoteSource.objects.get(pk=source_id)
    except (RemoteSource.DoesNotExist, ValueError, TypeError):
        raise NotFound(_("There is no such source.")) from None


def source_refresh(source_id: int) -> RemoteSource:
    """Read the source's capabilities again. On failure the source keeps what was read before and is marked
    failed with the error; chosen layers that disappeared are kept (a harvest reports them)."""
    source = _get(source_id)
    now = timezone.now()
    try:
        caps = capabilities.fetch_and_read(source.kind, source.url)
    except SourceError as e:
        RemoteSource.objects.filter(pk=source.pk).update(
            status=RemoteSource.Status.FAILED, last_error=str(e.message), last_checked_at=now
        )
    else:
        RemoteSource.objects.filter(pk=source.pk).update(
            status=RemoteSource.Status.OK,
            last_error="",
            last_checked_at=now,
            capabilities=caps,
            title=(caps.get("service_title") or source.title or source.url)[:300],
        )
    source.refresh_from_db()
    return source


def source_choose(source_id: int, names) -> RemoteSource:
    """Set the layers staff chose to use; every name must be one the source offers."""
    source = _get(source_id)
    offered = [layer["name"] for layer in (source.capabilities or {}).get("layers", [])]
    wanted = list(dict.fromkeys(str(n) for n in names))
    unknown = [n for n in wanted if n not in offered]
    if unknown:
        raise InvalidInput(
            _("The source offers no layer named %(names)s.") % {"names": ", ".join(unknown[:5])},
            code="unknown_layer",
            field="names",
        )
    source.chosen = [n for n in offered if n in set(wanted)]
    source.save(update_fields=["chosen"])
    return source
