"""login.gov.pl pages: start (auto-POST to the node), the artifact consumer, metadata, single logout (SOAP
from the node) and the portal's logout. Thin: each calls one action and renders."""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from csp.decorators import csp_update
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import logout as auth_logout
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render, resolve_url
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from gisportal.core.errors import ConfigurationError

from . import actions, adapters, saml
from .config import config, enabled

log = logging.getLogger(__name__)
BACKEND = "gisportal.core.roles.RoleBackend"
REFUSALS = {
    "link_session": lambda: _(
        "Linking was started by another account. Sign in with your password and try again."
    ),
    "linked_to_other": lambda: _("Your account is already linked to another login.gov.pl identity."),
    "identity_taken": lambda: _(
        "This login.gov.pl identity is already linked to another account of the portal. Sign in with "
        "login.gov.pl to use that account."
    ),
    "inactive": lambda: _("This account is blocked. Contact the office."),
}


def _safe_next(request, url: str) -> str:
    if url and url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return url
    return ""


def _problem(request, title: str, text: str, status: int, code: str = ""):
    return render(
        request, "logingov/problem.html", {"title": title, "text": text, "code": code}, status=status
    )


def _unavailable(request):
    return _problem(
        request,
        _("login.gov.pl is not available"),
        _("The national login service did not answer. Try again in a moment, or sign in with your password."),
        503,
    )


def _start(request, *, link_user_id: int | None = None):
    if not enabled():
        raise Http404
    try:
        started = actions.sign_in_start(
            request.session,
            next_url=_safe_next(request, request.GET.get("next", "")),
            link_user_id=link_user_id,
        )
    except ConfigurationError:
        log.exception("login.gov.pl: not configured properly")
        return _unavailable(request)
    response = render(request, "logingov/start.html", {"started": started})
    # the page's form goes to the node: its origin allowed as a form target on this page only
    parts = urlsplit(started.sso_url)
    allow_node = csp_update({"form-action": [f"{parts.scheme}://{parts.netloc}"]})
    return allow_node(lambda _request: response)(request)


@require_GET
def start(request):
    """/konto/logingovpl/: the signed AuthnRequest carried to the node by an auto-submitted form."""
    return _start(request)


@login_required
@require_POST
def link(request):
    """/konto/logingovpl/polacz/: a password account's owner confirms their identity at the node, once."""
    if request.user.identity_verified:
        messages.info(request, _("Your account is already linked to login.gov.pl."))
        return redirect("account")
    return _start(request, link_user_id=request.user.pk)


@csrf_exempt  # the node's answer arrives by redirect or POST from its page; bound to this browser's session
@require_http_methods(["GET", "POST"])
def acs(request):
    """/konto/logingovpl/acs: the artifact from the node → resolved over SOAP → the person signed in."""
    if not enabled():
        raise Http404
    params = request.POST if request.method == "POST" else request.GET
    try:
        user, identity, next_url = actions.sign_in_finish(
            request.session,
            artifact=params.get("SAMLart", ""),
            relay_state=params.get("RelayState", ""),
            current_user=request.user,
        )
    except saml.SamlError as e:
        log.warning("login.gov.pl: answer refused: %s", e)
        return _problem(
            request,
            _("Signing in with login.gov.pl failed"),
            _(
                "The answer of login.gov.pl could not be accepted, so nobody was signed in. Start again from the "
                "login page; if it happens again, tell the office the code below."
            ),
            400,
            e.code,
        )
    except actions.SignInRefused as e:
        return _problem(request, _("Signing in with login.gov.pl failed"), REFUSALS[e.code](), 409, e.code)
    except (adapters.NodeUnavailable, ConfigurationError) as e:
        log.warning("login.gov.pl: the node could not be asked: %s", e)
        return _unavailable(request)
    linked = request.user.is_authenticated and request.user.pk == user.pk
    login(request, user, backend=BACKEND)
    actions.session_record(request.session, user, identity)
    if linked:
        messages.success(request, _("Your account is now linked to login.gov.pl."))
        return redirect("account")
    return redirect(_safe_next(request, next_url) or resolve_url(settings.LOGIN_REDIRECT_URL))


@require_GET
def metadata(request):
    """/konto/logingovpl/metadata: our SAML metadata, to register with the node."""
    if not enabled():
        raise Http404
    try:
        body = saml.metadata(config())
    except ConfigurationError:
        log.exception("login.gov.pl: not configured properly")
        return _unavailable(request)
    return HttpResponse(body, content_type="application/samlmetadata+xml")


def _soap_fault(text: str, status: int = 500) -> HttpResponse:
    body = (
        '<?xml version="1.0" encoding="UTF-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">'
        f"<soap:Body><soap:Fault><faultcode>soap:Client</faultcode><faultstring>{text}</faultstring></soap:Fault>"
        "</soap:Body></soap:Envelope>"
    )
    return HttpResponse(body.encode(), status=status, content_type="text/xml; charset=utf-8")


@csrf_exempt  # a SOAP call from the node, signed: no browser, no cookie
@require_POST
def slo(request):
    """/konto/logingovpl/slo: the node's LogoutRequest over SOAP ends the person's portal sessions."""
    if not enabled():
        raise Http404
    if len(request.body) > 256 * 1024:
        return _soap_fault("too large", 400)
    try:
        return HttpResponse(actions.node_logout(request.body), content_type="text/xml; charset=utf-8")
    except saml.SamlError as e:
        log.warning("login.gov.pl: logout request refused: %s", e)
        return _soap_fault("request refused: " + e.code, 400)
    except ConfigurationError:
        log.exception("login.gov.pl: not configured properly")
        return _soap_fault("not configured", 503)


@require_POST
def logout(request):
    """/konto/wylogowanie/: the node's session ended too when the portal's came from it."""
    if enabled():
        actions.portal_logout(request.session)
    auth_logout(request)
    return redirect(settings.LOGOUT_REDIRECT_URL)
