"""What an applicant typed into a form before logging in, kept in their session (server-side) across
the log-in, so the form opens filled in again afterwards. Only the typed data: never files, at most
MAX_BYTES of it per form and MAX_FORMS forms per session. Nothing is filed from here: the applicant
sees the form again and sends it themselves."""

from __future__ import annotations

import json

from django.utils import timezone

SESSION_KEY = "gisportal:forms:pending"
MAX_BYTES = 64 * 1024  # of the data as JSON
MAX_FORMS = 3


def pending_keep(session, code: str, data: dict, *, had_files: bool) -> bool:
    """Keep `data` (already read into the form's schema types) for the form `code`; False when it is
    too large to keep (nothing is kept then)."""
    try:
        size = len(json.dumps(data, ensure_ascii=False).encode())
    except (TypeError, ValueError):
        return False
    if size > MAX_BYTES:
        return False
    kept = dict(session.get(SESSION_KEY) or {})
    kept.pop(code, None)
    while len(kept) >= MAX_FORMS:  # the oldest goes
        kept.pop(min(kept, key=lambda c: kept[c].get("at", "")))
    kept[code] = {"data": data, "files": bool(had_files), "at": timezone.now().isoformat()}
    session[SESSION_KEY] = kept
    return True


def pending_get(session, code: str) -> dict | None:
    """{"data": ..., "files": bool} kept for the form `code`, or None."""
    entry = (session.get(SESSION_KEY) or {}).get(code)
    if not isinstance(entry, dict) or not isinstance(entry.get("data"), dict):
        return None
    return entry


def pending_drop(session, code: str) -> None:
    kept = dict(session.get(SESSION_KEY) or {})
    if kept.pop(code, None) is not None:
        session[SESSION_KEY] = kept
