"""NUL characters: PostgreSQL cannot store one in text, and nothing legitimate holds one. The request
middleware refuses them in the path, the query string and url-encoded bodies; a view that reads the
fields of a multipart body itself (after its own permission check, so a large upload is never parsed
for an anonymous caller) asks `has_nul` before using them. Django form fields refuse NUL themselves
(ProhibitNullCharactersValidator)."""

from __future__ import annotations


def has_nul(query) -> bool:
    """True when any name or value of a QueryDict (or a plain mapping of strings) holds a NUL."""
    getlist = getattr(query, "getlist", None)
    for key in query:
        if "\x00" in str(key):
            return True
        values = getlist(key) if getlist is not None else [query[key]]
        if any(isinstance(v, str) and "\x00" in v for v in values):
            return True
    return False


def without_nul(value):
    """The value with NUL characters removed (strings, and lists or dicts of them), for showing a
    refused form again."""
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, list | tuple):
        return [without_nul(v) for v in value]
    if isinstance(value, dict):
        return {without_nul(k): without_nul(v) for k, v in value.items()}
    return value
