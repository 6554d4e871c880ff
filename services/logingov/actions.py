"""Signing in with login.gov.pl, linking an account to the identity, and single logout both ways.

The outstanding AuthnRequest lives in the browser's own session (so a response started in another browser
is refused: no login CSRF); each artifact and assertion is accepted once; an account is found or made by the
PESEL the node vouched for, never by a name; a password account is linked only by its signed-in owner, once."""

from __future__ import annotations

import base64
import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.contrib.auth import get_user_model
from django.contrib.sessions.backends.db import SessionStore
from django.db import IntegrityError, transaction
from django.utils import timezone

from . import adapters, saml
from .config import config
from .models import NodeSession, UsedToken

log = logging.getLogger(__name__)
PENDING = "logingov_pending"
SESSION = "logingov"
REQUEST_TTL = timedelta(minutes=15)
MAX_PENDING = 5


class SignInRefused(Exception):
    """A sign-in that cannot go on for a reason the person should read (`code` picks the sentence)."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class Started:
    sso_url: str
    saml_request: str  # base64 of the signed AuthnRequest
    relay_state: str


def sign_in_start(
    session, *, next_url: str = "", link_user_id: int | None = None, now: datetime | None = None
) -> Started:
    """A signed AuthnRequest for the browser to carry to the node; remembered in `session`."""
    cfg = config()
    now = now or datetime.now(UTC)
    request_id, relay = saml.new_id(), secrets.token_urlsafe(24)
    pending = dict(session.get(PENDING) or {})
    pending[relay] = {"id": request_id, "next": next_url[:500], "link": link_user_id, "at": now.timestamp()}
    session[PENDING] = dict(sorted(pending.items(), key=lambda kv: kv[1]["at"])[-MAX_PENDING:])
    return Started(cfg.sso_url, base64.b64encode(saml.authn_request(cfg, request_id, now)).decode(), relay)


def _use_once(kind: str, value: str, expires_at: datetime) -> None:
    digest = hashlib.sha256(f"{kind}:{value}".encode()).hexdigest()
    try:
        with transaction.atomic():
            UsedToken.objects.create(digest=digest, kind=kind, expires_at=expires_at)
    except IntegrityError as e:
        raise saml.SamlError("replay", kind) from e


def sign_in_finish(
    session, *, artifact: str, relay_state: str, current_user=None, now: datetime | None = None
):
    """The account the node's answer to `artifact` vouches for, and where to go next: (user, identity, next).
    Raises saml.SamlError (a message refused), SignInRefused (an account rule), adapters.NodeUnavailable."""
    cfg = config()
    now = now or datetime.now(UTC)
    pending = dict(session.get(PENDING) or {})
    entry = pending.pop(relay_state, None) if isinstance(relay_state, str) else None
    session[PENDING] = pending  # each outstanding request is answered once, whatever the outcome
    if entry is None:
        raise saml.SamlError("no_request", "no sign-in was started in this browser")
    if now.timestamp() - entry["at"] > REQUEST_TTL.total_seconds():
        raise saml.SamlError("expired", "the sign-in was started too long ago")
    artifact = saml.check_artifact(artifact, cfg.node_entity_id)
    _use_once("artifact", artifact, now + timedelta(days=1))
    resolve_id = saml.new_id()
    answer = adapters.soap_post(cfg.artifact_url, saml.artifact_resolve(cfg, artifact, resolve_id, now))
    identity = saml.read_artifact_response(
        cfg, answer, resolve_id=resolve_id, request_id=entry["id"], now=now
    )
    _use_once("assertion", identity.assertion_id, identity.not_on_or_after + timedelta(days=1))
    UsedToken.objects.filter(expires_at__lt=now - timedelta(days=1)).delete()
    if entry.get("link"):
        if current_user is None or not current_user.is_authenticated or current_user.pk != entry["link"]:
            raise SignInRefused("link_session")
        user = account_link(current_user, identity)
    else:
        user = account_for(identity)
    return user, identity, entry.get("next", "")


def _apply(user, identity: saml.Identity) -> None:
    user.pesel = identity.pesel
    user.first_name = identity.given_names[:150]
    user.last_name = identity.family_name[:150]
    user.birth_date = identity.birth_date
    user.identity_loa = identity.loa
    user.identity_verified_at = timezone.now()


@transaction.atomic
def account_for(identity: saml.Identity):
    """The account of the person with this PESEL, made on the first sign-in (a citizen with no password)."""
    User = get_user_model()
    user = User.objects.select_for_update().filter(pesel=identity.pesel).first()
    if user is None:
        user = User(username=f"lgp-{secrets.token_hex(5)}", role="citizen", email=None)
        user.set_unusable_password()
        log.info("login.gov.pl: account made for a new identity")
    if not user.is_active:
        raise SignInRefused("inactive")
    _apply(user, identity)
    user.save()
    return user


@transaction.atomic
def account_link(user, identity: saml.Identity):
    """`user` (signed in with a password) linked to the identity: once, and only to an identity no other
    account holds."""
    User = get_user_model()
    user = User.objects.select_for_update().get(pk=user.pk)
    if user.pesel and user.pesel != identity.pesel:
        raise SignInRefused("linked_to_other")
    if User.objects.filter(pesel=identity.pesel).exclude(pk=user.pk).exists():
        raise SignInRefused("identity_taken")
    _apply(user, identity)
    user.save()
    log.info("login.gov.pl: account %s linked to its identity", user.pk)
    return user


def session_record(session, user, identity: saml.Identity) -> None:
    """After login(): the node's session beside the portal's (its key is the new one login() made)."""
    NodeSession.objects.create(
        user=user,
        session_key=session.session_key or "",
        name_id=identity.name_id,
        name_id_format=identity.name_id_format,
        session_index=identity.session_index,
        loa=identity.loa,
    )
    session[SESSION] = {
        "name_id": identity.name_id,
        "session_index": identity.session_index,
        "loa": identity.loa,
    }


def portal_logout(session, now: datetime | None = None) -> bool | None:
    """Before the portal's logout: end the node's session of this portal session (SOAP LogoutRequest).
    None when the session did not come from the node; else whether the node confirmed. Never raises: the
    portal logs out whatever the node says."""
    if not session.get(SESSION) or not session.session_key:
        return None
    rows = list(NodeSession.objects.filter(session_key=session.session_key, ended_at__isnull=True))
    NodeSession.objects.filter(pk__in=[r.pk for r in rows]).update(ended_at=timezone.now(), ended_by="portal")
    ok = True
    for row in rows:
        try:
            cfg = config()
            request_id, envelope = saml.logout_request(
                cfg, row.name_id, row.name_id_format, row.session_index, now or datetime.now(UTC)
            )
            answer = adapters.soap_post(cfg.node_slo_url, envelope)
            ok = saml.read_logout_response(cfg, answer, request_id=request_id) and ok
        except (
            Exception
        ) as e:  # a refused answer, no answer, a bad configuration: logged; the portal logs out
            log.warning("login.gov.pl: the node's session was not ended: %s", e)
            ok = False
    return ok


def node_logout(data: bytes, now: datetime | None = None) -> bytes:
    """The node's SOAP LogoutRequest: every portal session of that NameID (and SessionIndex) ended; our signed
    LogoutResponse. A request that fails a check raises saml.SamlError (answered as a SOAP fault)."""
    cfg = config()
    now = now or datetime.now(UTC)
    req = saml.read_logout_request(cfg, data, now=now)
    rows = NodeSession.objects.filter(name_id=req.name_id, ended_at__isnull=True)
    if req.session_indexes:
        rows = rows.filter(session_index__in=req.session_indexes)
    rows = list(rows)
    for row in rows:
        SessionStore(session_key=row.session_key).delete()
    NodeSession.objects.filter(pk__in=[r.pk for r in rows]).update(ended_at=timezone.now(), ended_by="node")
    log.info("login.gov.pl: the node ended %d portal session(s)", len(rows))
    return saml.logout_response(cfg, req.request_id, now)
