"""The tracking and access codes of an e-filed request, known from the moment it is filed.

The receipt (UPP), the receipt page and the first e-mail carry them before the case register has
opened the case, so they are derived from the submission's identifier with a key only the server
holds (the same SECRET_KEY that keys every access-code hash); the case stores only the access
code's hash. A code re-issued later is random and reaches the applicant by e-mail only."""

from __future__ import annotations

import hashlib
import hmac

from django.conf import settings

ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud and typed from paper


def _derive(purpose: str, submission_id, n: int = 10) -> str:
    digest = hmac.new(
        settings.SECRET_KEY.encode(), f"gisportal:{purpose}:{submission_id}".encode(), hashlib.sha256
    ).digest()
    return "".join(ALPHABET[b % len(ALPHABET)] for b in digest[:n])


def case_codes(submission_id) -> tuple[str, str]:
    """(tracking code, access code) of the case that an e-filed submission opens."""
    return _derive("tracking", submission_id), _derive("access", submission_id)
