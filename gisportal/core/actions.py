"""Writes on accounts: API keys for offices' systems (created, used, revoked)."""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .errors import InvalidInput, NotFound
from .models import ApiKey

KEY_MARK = "gp_"  # our keys start with it, so that secret scanners and people recognise them
KEY_BYTES = 32
KEY_RE = re.compile(r"gp_[A-Za-z0-9_-]{40,100}")  # token_urlsafe(32) gives 43 characters
LAST_USED_RESOLUTION = timedelta(minutes=5)  # last_used_at is written at most this often per key


def key_digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def key_prefix(raw: str) -> str:
    """The 8 characters after gp_: stored and shown to recognise (and revoke) a key."""
    return raw[len(KEY_MARK) : len(KEY_MARK) + 8]


def key_well_formed(raw: str) -> bool:
    return KEY_RE.fullmatch(raw) is not None


@transaction.atomic
def api_key_create(user, name: str, *, expires_at=None, raw: str | None = None) -> tuple[ApiKey, str]:
    """A new key for `user`. Returns the row and the raw key, which is never stored and cannot be shown
    again. `raw` is for the demo's published key only (gisportal demo-accounts)."""
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise InvalidInput(_("Give the key a name of at most 100 characters."), field="name")
    if not user.is_active:
        raise InvalidInput(_("The account is not active."), field="user")
    if expires_at is not None and expires_at <= timezone.now():
        raise InvalidInput(_("The expiry date must be in the future."), field="expires_at")
    if raw is None:
        raw = KEY_MARK + secrets.token_urlsafe(KEY_BYTES)
        while ApiKey.objects.filter(prefix=key_prefix(raw)).exists():  # 48 random bits: practically never
            raw = KEY_MARK + secrets.token_urlsafe(KEY_BYTES)
    elif not key_well_formed(raw):
        raise InvalidInput(_("This is not a well-formed API key."), field="key")
    key = ApiKey.objects.create(
        user=user, name=name, prefix=key_prefix(raw), key_sha256=key_digest(raw), expires_at=expires_at
    )
    return key, raw


@transaction.atomic
def api_key_revoke(prefix: str) -> ApiKey:
    """Revoke the key with this prefix (`gp_` may be written before it). Idempotent."""
    prefix = (prefix or "").strip()
    if prefix.startswith(KEY_MARK):
        prefix = prefix[len(KEY_MARK) :]
    key = ApiKey.objects.select_for_update().filter(prefix=prefix[:8]).first() if len(prefix) >= 8 else None
    if key is None:
        raise NotFound(_("There is no API key with this prefix."))
    if key.revoked_at is None:
        key.revoked_at = timezone.now()
        key.save(update_fields=["revoked_at"])
    return key


def api_keys_revoke(keys) -> int:
    """Revoke the keys of a queryset (the admin's action); the number newly revoked."""
    return keys.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())


def api_key_used(key: ApiKey) -> None:
    """Note that the key was used (not more often than LAST_USED_RESOLUTION: no write per request)."""
    now = timezone.now()
    if key.last_used_at is None or now - key.last_used_at >= LAST_USED_RESOLUTION:
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
        key.last_used_at = now


@transaction.atomic
def api_key_ensure(user, name: str, raw: str) -> ApiKey:
    """The demo's published key for `user`: created when missing, made valid again when revoked or
    expired (as demo-accounts resets the demo passwords). Idempotent."""
    key = ApiKey.objects.select_for_update().filter(key_sha256=key_digest(raw)).first()
    if key is None:
        return api_key_create(user, name, raw=raw)[0]
    key.user, key.name, key.revoked_at, key.expires_at = user, name, None, None
    key.save(update_fields=["user", "name", "revoked_at", "expires_at"])
    return key
