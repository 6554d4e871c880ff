"""Checks shared by every reader of an uploaded ZIP archive (registry imports, surveyors' work areas)."""

from __future__ import annotations

from pathlib import PurePosixPath


def unsafe_member_name(name: str) -> bool:
    """True for a member name that could leave the extraction folder or confuse a reader: absolute, with
    `..`, a backslash or a drive colon, control characters, or longer than 200 characters."""
    p = PurePosixPath(name)
    return (
        "\\" in name
        or name.startswith("/")
        or ".." in p.parts
        or ":" in name
        or any(ord(c) < 32 for c in name)
        or len(name) > 200
    )
