"""A local fake Węzeł Krajowy (login.gov.pl) speaking the profile of `services.logingov.saml`, for the tests
and the demo:

    python -m services.logingov.adapters.fake_node --port 8097 --dir var/logingov \
        --sp-metadata http://127.0.0.1:8000/konto/logingovpl/metadata

- POST /login/SingleSignOnService: our signed AuthnRequest (checked against the SP's certificate) → a page
  (Polish) to pick one of the test identities → 303 to the SP's ACS with a SAMLart and the RelayState;
- POST /login-services/idpArtifactResolutionService (SOAP): the SP's signed ArtifactResolve → the signed
  ArtifactResponse with the Response and its EncryptedAssertion (signed, then ECDH-ES + AES-256-GCM to the
  SP's certificate); each artifact resolves once;
- POST /login-services/singleLogoutService (SOAP): the SP's signed LogoutRequest ends the node's session;
- GET /_fake/: the node's sessions, each with a button that logs it out at the node, which then sends a
  signed SOAP LogoutRequest to the SP's single logout service.

Its key and certificate are <dir>/node-key.pem and node-cert.pem (made when missing); the SP reads
node-cert.pem (GISPORTAL_LOGINGOV_NODE_CERT). The SP's certificate, ACS and logout service come from the
SP's metadata (fetched when first needed) or are given (`FakeNode(sp_cert=…)`). Tests make the next answer
misbehave with `FakeNode.misbehave(mode)` (see MODES). Listens on loopback; nothing here is secret."""

from __future__ import annotations

import argparse
import base64
import html
import logging
import secrets
import signal
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from lxml import etree
from saml2 import saml as s

from services.signatures.xmlsafe import UnsafeXml, parse_xml

from .. import xmldsig, xmlenc
from ..saml import (
    ATTRIBUTES,
    BEARER,
    LOA,
    NATURAL,
    SAML,
    SAMLP,
    SUCCESS,
    instant,
    make_artifact,
    new_id,
    soap_body,
)

log = logging.getLogger(__name__)
MD = "urn:oasis:names:tc:SAML:2.0:metadata"
DS = "http://www.w3.org/2000/09/xmldsig#"
MAX_BODY = 256 * 1024
MODES = {
    "unsigned": "the ArtifactResponse and the assertion not signed",
    "wrong_key": "everything signed with a key that is not the node's",
    "audience": "the assertion for another service provider",
    "expired": "an assertion whose validity ended ten minutes ago",
    "wrapping": "a forged Response beside a genuine signed ArtifactResponse (signature wrapping)",
    "pesel": "the PESEL changed inside the assertion after it was signed, then encrypted again",
    "replay": "the previous assertion again (same ID), signed anew for this request",
    "loa_low": "level of assurance low",
    "tag": "the encrypted assertion's ciphertext changed (then everything signed again)",
}


def _pesel(born: str, serial: str) -> str:
    """A valid PESEL for birth date `born` (YYYY-MM-DD, 1900–2099) and a 4-digit serial."""
    y, m, d = int(born[:4]), int(born[5:7]), int(born[8:10])
    body = f"{y % 100:02d}{m + (20 if y >= 2000 else 0):02d}{d:02d}{serial}"
    check = (
        10 - sum(int(c) * w for c, w in zip(body, (1, 3, 7, 9, 1, 3, 7, 9, 1, 3), strict=True)) % 10
    ) % 10
    return body + str(check)


@dataclass(frozen=True)
class TestIdentity:
    given: str
    family: str
    born: str
    pesel: str


IDENTITIES = (
    TestIdentity("Jan", "Kowalski", "1944-05-14", _pesel("1944-05-14", "0135")),
    TestIdentity("Anna Maria", "Wiśniewska", "1985-11-02", _pesel("1985-11-02", "1246")),
    TestIdentity("Zofia", "Nowak", "2001-03-21", _pesel("2001-03-21", "0728")),
)


class FakeNode:
    def __init__(
        self,
        *,
        directory: Path | None = None,
        sp_cert: bytes | None = None,
        sp_metadata_url: str = "",
        sp_acs_url: str = "",
        sp_slo_url: str = "",
        sp_entity_id: str = "",
        entity_id: str = "",
        host: str = "127.0.0.1",
        verbose: bool = False,
    ):
        from ..config import generate_pair

        self.host, self.verbose = host, verbose
        self._entity_id = entity_id
        if directory is not None:
            directory.mkdir(parents=True, exist_ok=True)
            key_file, cert_file = directory / "node-key.pem", directory / "node-cert.pem"
            if not key_file.exists():
                key_pem, cert_pem = generate_pair("Fake Węzeł Krajowy (login.gov.pl)")
                key_file.write_bytes(key_pem)
                key_file.chmod(0o600)
                cert_file.write_bytes(cert_pem)
            self.key_pem, self.cert_pem = key_file.read_bytes(), cert_file.read_bytes()
        else:
            self.key_pem, self.cert_pem = generate_pair("Fake Węzeł Krajowy (login.gov.pl)")
        self.other_key_pem, self.other_cert_pem = generate_pair("Not the node")
        self.sp_metadata_url = sp_metadata_url
        self.sp = {"cert": sp_cert, "acs": sp_acs_url, "slo": sp_slo_url, "entity": sp_entity_id}
        self.pending: dict[str, dict] = {}
        self.artifacts: dict[str, dict] = {}
        self.sessions: dict[str, dict] = {}  # session index → {name_id, identity, ended}
        self.modes: list[str] = []
        self.last_assertion: etree._Element | None = None
        self.requests: list[str] = []  # the SOAP calls received, by kind (tests)
        self.logout_answers: list[bytes] = []
        self._lock = threading.Lock()
        self._server: _Server | None = None

    # ------------------------------------------------------------------ life
    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://{self.host}:{self._server.server_address[1]}"

    @property
    def entity_id(self) -> str:
        return self._entity_id or self.url

    def start(self, port: int = 0) -> FakeNode:
        self._server = _Server((self.host, port), _Handler)
        self._server.node = self
        threading.Thread(target=self._server.serve_forever, daemon=True, name="fake-node").start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def misbehave(self, mode: str) -> None:
        """The next answer misbehaves as MODES[mode] says."""
        assert mode in MODES, mode
        self.modes.append(mode)

    # ------------------------------------------------------------------ the SP
    def _sp(self) -> dict:
        if self.sp.get("cert") or not self.sp_metadata_url:
            return self.sp
        with urllib.request.urlopen(self.sp_metadata_url, timeout=5) as answer:  # noqa: S310 -- the configured SP
            root = parse_xml(answer.read(MAX_BODY))
        sp = root.find(f"{{{MD}}}SPSSODescriptor")
        cert = sp.find(f"{{{MD}}}KeyDescriptor[@use='signing']//{{{DS}}}X509Certificate")
        der = base64.b64decode("".join(cert.text.split()))
        pem = x509.load_der_x509_certificate(der).public_bytes(Encoding.PEM)
        self.sp = {
            "cert": pem,
            "acs": sp.find(f"{{{MD}}}AssertionConsumerService").get("Location"),
            "slo": sp.find(f"{{{MD}}}SingleLogoutService").get("Location"),
            "entity": root.get("entityID"),
        }
        return self.sp

    def _verify_sp(self, element: etree._Element) -> etree._Element:
        return xmldsig.verify(element, self._sp()["cert"])

    # ------------------------------------------------------------------ single sign-on
    def authn_request(self, saml_request: str) -> str:
        """Check the SP's AuthnRequest; a token for the page where the person picks an identity."""
        root = parse_xml(base64.b64decode(saml_request, validate=True))
        if root.tag != f"{{{SAMLP}}}AuthnRequest":
            raise ValueError("not an AuthnRequest")
        req = self._verify_sp(root)
        sp = self._sp()
        if req.get("Destination") != self.url + "/login/SingleSignOnService":
            raise ValueError("Destination")
        if req.get("AssertionConsumerServiceURL") != sp["acs"]:
            raise ValueError("an ACS the SP did not register")
        issuer = req.findtext(f"{{{SAML}}}Issuer")
        if sp.get("entity") and issuer != sp["entity"]:
            raise ValueError("Issuer")
        loa = req.findtext(f".//{{{SAML}}}AuthnContextClassRef") or LOA["substantial"]
        token = secrets.token_urlsafe(16)
        with self._lock:
            self.pending[token] = {"id": req.get("ID"), "acs": sp["acs"], "issuer": issuer, "loa": loa}
        return token

    def choose(self, token: str, index: int, relay_state: str) -> str:
        """The person picked identity `index`: an artifact stored, the SP's ACS URL with it returned."""
        with self._lock:
            req = self.pending.pop(token)
        identity = IDENTITIES[index]
        artifact = make_artifact(self.entity_id)
        answer = self._response(req, identity)
        with self._lock:
            self.artifacts[artifact] = answer
        query = urllib.parse.urlencode({"SAMLart": artifact, "RelayState": relay_state})
        return f"{req['acs']}?{query}"

    def _signed(self, element: etree._Element, mode: str) -> etree._Element:
        if mode == "unsigned":
            return element
        key, cert = (
            (self.other_key_pem, self.other_cert_pem)
            if mode == "wrong_key"
            else (self.key_pem, self.cert_pem)
        )
        return xmldsig.sign(element, key, cert)

    def _response(self, req: dict, who: TestIdentity) -> dict:
        mode = self.modes.pop(0) if self.modes else ""
        now = datetime.now(UTC)
        until = now + timedelta(minutes=5) if mode != "expired" else now - timedelta(minutes=10)
        session_index = "_" + secrets.token_hex(16)
        name_id = "lgp-" + secrets.token_hex(8)
        sp = self._sp()
        loa = LOA["low"] if mode == "loa_low" else req["loa"]
        if mode == "replay" and self.last_assertion is not None:  # the same assertion ID, for this request
            assertion = etree.fromstring(etree.tostring(self.last_assertion))
            assertion.remove(assertion.find(f"{{{DS}}}Signature"))
            for scd in assertion.iter(f"{{{SAML}}}SubjectConfirmationData"):
                scd.set("InResponseTo", req["id"])
            assertion = self._signed(assertion, mode)
        else:
            values = {
                f"{NATURAL}CurrentGivenName": who.given,
                f"{NATURAL}CurrentFamilyName": who.family,
                f"{NATURAL}DateOfBirth": who.born,
                f"{NATURAL}PersonIdentifier": who.pesel,
            }
            a = s.Assertion(
                id=new_id(),
                version="2.0",
                issue_instant=instant(now),
                issuer=s.Issuer(text=self.entity_id),
                subject=s.Subject(
                    name_id=s.NameID(
                        format="urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified", text=name_id
                    ),
                    subject_confirmation=[
                        s.SubjectConfirmation(
                            method=BEARER,
                            subject_confirmation_data=s.SubjectConfirmationData(
                                in_response_to=req["id"], not_on_or_after=instant(until), recipient=req["acs"]
                            ),
                        )
                    ],
                ),
                conditions=s.Conditions(
                    not_before=instant(
                        now - timedelta(seconds=5) if mode != "expired" else now - timedelta(minutes=20)
                    ),
                    not_on_or_after=instant(until),
                    audience_restriction=[
                        s.AudienceRestriction(
                            audience=[
                                s.Audience(
                                    text="https://inny-urzad.example/sp"
                                    if mode == "audience"
                                    else req["issuer"]
                                )
                            ]
                        )
                    ],
                ),
                authn_statement=[
                    s.AuthnStatement(
                        authn_instant=instant(now),
                        session_index=session_index,
                        authn_context=s.AuthnContext(
                            authn_context_class_ref=s.AuthnContextClassRef(text=loa)
                        ),
                    )
                ],
                attribute_statement=[
                    s.AttributeStatement(
                        attribute=[
                            s.Attribute(
                                name=name,
                                name_format="urn:oasis:names:tc:SAML:2.0:attrname-format:uri",
                                friendly_name=friendly,
                                attribute_value=[s.AttributeValue(text=values[name])],
                            )
                            for name, friendly in ATTRIBUTES.items()
                        ]
                    )
                ],
            )
            assertion = self._signed(etree.fromstring(a.to_string()), mode)
            self.last_assertion = assertion
        if mode == "pesel":
            for value in assertion.iter(f"{{{SAML}}}AttributeValue"):
                if value.getparent().get("Name", "").endswith("PersonIdentifier"):
                    value.text = IDENTITIES[(IDENTITIES.index(who) + 1) % len(IDENTITIES)].pesel
        cert = x509.load_pem_x509_certificate(sp["cert"])
        encrypted = xmlenc.encrypt(
            etree.tostring(assertion), cert.public_key(), party_u=self.entity_id, party_v=req["issuer"] or ""
        )
        if mode == "tag":
            cv = encrypted.find(
                f"{{{xmlenc.XENC}}}EncryptedData/{{{xmlenc.XENC}}}CipherData/{{{xmlenc.XENC}}}CipherValue"
            )
            raw = bytearray(base64.b64decode(cv.text))
            raw[20] ^= 1
            cv.text = base64.b64encode(bytes(raw)).decode()
        response = etree.Element(
            f"{{{SAMLP}}}Response",
            nsmap={"saml2p": SAMLP, "saml2": SAML},
            ID=new_id(),
            Version="2.0",
            IssueInstant=instant(now),
            InResponseTo=req["id"],
            Destination=req["acs"],
        )
        etree.SubElement(response, f"{{{SAML}}}Issuer").text = self.entity_id
        status = etree.SubElement(response, f"{{{SAMLP}}}Status")
        etree.SubElement(status, f"{{{SAMLP}}}StatusCode", Value=SUCCESS)
        response.append(encrypted)
        with self._lock:
            self.sessions[session_index] = {"name_id": name_id, "who": who, "ended": False, "at": now}
        return {"response": response, "mode": mode, "req": req, "who": who}

    def artifact_resolve(self, data: bytes) -> bytes:
        self.requests.append("ArtifactResolve")
        resolve = self._verify_sp(soap_body(data, f"{{{SAMLP}}}ArtifactResolve"))
        artifact = resolve.findtext(f"{{{SAMLP}}}Artifact") or ""
        with self._lock:
            stored = self.artifacts.pop(artifact, None)
        now = datetime.now(UTC)
        art = etree.Element(
            f"{{{SAMLP}}}ArtifactResponse",
            nsmap={"saml2p": SAMLP, "saml2": SAML},
            ID=new_id(),
            Version="2.0",
            IssueInstant=instant(now),
            InResponseTo=resolve.get("ID"),
        )
        etree.SubElement(art, f"{{{SAML}}}Issuer").text = self.entity_id
        status = etree.SubElement(art, f"{{{SAMLP}}}Status")
        etree.SubElement(status, f"{{{SAMLP}}}StatusCode", Value=SUCCESS)
        mode = ""
        if stored is not None:
            mode = stored["mode"]
            art.append(stored["response"])
        signed = self._signed(art, mode)
        if mode == "wrapping":  # a forged Response in place of the genuine one, the genuine message hidden
            forged = etree.fromstring(etree.tostring(signed))
            genuine = forged.find(f"{{{SAMLP}}}Response")
            forged.remove(genuine)
            evil = self._response(stored["req"], IDENTITIES[-1])["response"]
            forged.append(evil)
            hidden = etree.SubElement(forged, f"{{{SAMLP}}}Extensions")
            hidden.append(etree.fromstring(etree.tostring(signed)))
            signed = forged
        return _soap(signed)

    # ------------------------------------------------------------------ single logout
    def sp_logout(self, data: bytes) -> bytes:
        """The SP's LogoutRequest: the node's session ended; a signed LogoutResponse."""
        self.requests.append("LogoutRequest")
        req = self._verify_sp(soap_body(data, f"{{{SAMLP}}}LogoutRequest"))
        indexes = [e.text for e in req.findall(f"{{{SAMLP}}}SessionIndex")]
        with self._lock:
            for index in indexes:
                if index in self.sessions:
                    self.sessions[index]["ended"] = True
        return _soap(self._logout_response(req.get("ID")))

    def _logout_response(self, in_response_to: str) -> etree._Element:
        msg = etree.Element(
            f"{{{SAMLP}}}LogoutResponse",
            nsmap={"saml2p": SAMLP, "saml2": SAML},
            ID=new_id(),
            Version="2.0",
            IssueInstant=instant(datetime.now(UTC)),
            InResponseTo=in_response_to,
        )
        etree.SubElement(msg, f"{{{SAML}}}Issuer").text = self.entity_id
        etree.SubElement(etree.SubElement(msg, f"{{{SAMLP}}}Status"), f"{{{SAMLP}}}StatusCode", Value=SUCCESS)
        return xmldsig.sign(msg, self.key_pem, self.cert_pem)

    def logout(self, session_index: str, *, mode: str = "") -> int:
        """The person logs out at the node: a signed SOAP LogoutRequest to the SP; the SP's HTTP status."""
        body = self.logout_request(session_index, mode=mode)
        request = urllib.request.Request(  # noqa: S310 -- the configured SP's logout service
            self._sp()["slo"], data=body, headers={"Content-Type": "text/xml; charset=utf-8"}
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310 -- the configured SP
                self.logout_answers.append(answer.read(MAX_BODY))
                return answer.status
        except urllib.error.HTTPError as e:
            self.logout_answers.append(e.read(MAX_BODY))
            return e.code

    def logout_request(self, session_index: str, *, mode: str = "") -> bytes:
        """The signed SOAP LogoutRequest the node sends the SP when the person logs out at the node."""
        with self._lock:
            session = self.sessions[session_index]
            session["ended"] = True
        sp = self._sp()
        msg = etree.Element(
            f"{{{SAMLP}}}LogoutRequest",
            nsmap={"saml2p": SAMLP, "saml2": SAML},
            ID=new_id(),
            Version="2.0",
            IssueInstant=instant(datetime.now(UTC)),
            Destination=sp["slo"],
        )
        etree.SubElement(msg, f"{{{SAML}}}Issuer").text = self.entity_id
        etree.SubElement(msg, f"{{{SAML}}}NameID").text = session["name_id"]
        etree.SubElement(msg, f"{{{SAMLP}}}SessionIndex").text = session_index
        return _soap(self._signed(msg, mode))


def _soap(element: etree._Element) -> bytes:
    soap = "http://schemas.xmlsoap.org/soap/envelope/"
    envelope = etree.Element(f"{{{soap}}}Envelope", nsmap={"soap": soap})
    etree.SubElement(envelope, f"{{{soap}}}Body").append(element)
    return etree.tostring(envelope, xml_declaration=True, encoding="UTF-8")


PAGE = """<!doctype html><html lang="pl"><head><meta charset="utf-8"><title>{title}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{{font:16px/1.5 sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem;color:#1a1a1a}}
button{{font:inherit;padding:.4rem 1rem;border:2px solid #0b4f8a;background:#0b4f8a;color:#fff;border-radius:3px}}
fieldset{{border:1px solid #767676;margin:1rem 0}} label{{display:block;margin:.4rem 0}}
:focus-visible{{outline:3px solid #b35c00;outline-offset:2px}}</style></head>
<body><header><p><strong>login.gov.pl</strong> — symulator węzła krajowego (dane testowe)</p></header>
<main>{body}</main></body></html>"""


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def _page(self, title: str, body: str, status: int = 200) -> None:
        data = PAGE.format(title=html.escape(title), body=body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(data)

    def _send(self, status: int, data: bytes, kind: str = "text/xml; charset=utf-8") -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _form(self) -> dict[str, str]:
        body = self._body()
        return {k: v[0] for k, v in urllib.parse.parse_qs(body.decode("utf-8", "replace")).items()}

    def _body(self) -> bytes:
        length = (self.headers.get("Content-Length") or "0").strip()
        if not length.isdigit() or int(length) > MAX_BODY:
            raise ValueError("body too large")
        return self.rfile.read(int(length))

    def do_GET(self) -> None:
        node = self.server.node
        if self.path.split("?")[0] in ("/_fake/", "/_fake"):
            rows = "".join(
                f"<li>{html.escape(v['who'].given)} {html.escape(v['who'].family)}, od {v['at']:%H:%M:%S}"
                f"{' — wylogowany' if v['ended'] else ''}"
                + (
                    ""
                    if v["ended"]
                    else f'<form method="post" action="/_fake/logout"><input type="hidden" name="session" value="{html.escape(k)}">'
                    f'<button type="submit">Wyloguj w węźle</button></form>'
                )
                + "</li>"
                for k, v in list(node.sessions.items())
            )
            self._page("Sesje węzła", f"<h1>Sesje węzła</h1><ul>{rows or '<li>Brak sesji</li>'}</ul>")
            return
        self._page("Nie znaleziono", "<h1>Nie znaleziono</h1>", 404)

    def do_POST(self) -> None:
        node = self.server.node
        path = self.path.split("?")[0]
        try:
            if path == "/login/SingleSignOnService":
                form = self._form()
                token = node.authn_request(form.get("SAMLRequest", ""))
                relay = html.escape(form.get("RelayState", ""))
                choices = "".join(
                    f'<label><input type="radio" name="who" value="{i}"{" checked" if i == 0 else ""}> '
                    f"{html.escape(p.given)} {html.escape(p.family)}, PESEL {p.pesel}</label>"
                    for i, p in enumerate(IDENTITIES)
                )
                self._page(
                    "Logowanie — login.gov.pl",
                    f'<h1>Zaloguj się</h1><form method="post" action="/login/choose">'
                    f'<input type="hidden" name="token" value="{token}"><input type="hidden" name="RelayState" value="{relay}">'
                    f"<fieldset><legend>Tożsamość testowa (Profil Zaufany)</legend>{choices}</fieldset>"
                    f'<button type="submit">Zaloguj</button></form>',
                )
            elif path == "/login/choose":
                form = self._form()
                target = node.choose(
                    form.get("token", ""), int(form.get("who", "0")), form.get("RelayState", "")
                )
                self.send_response(303)
                self.send_header("Location", target)
                self.send_header("Content-Length", "0")
                self.end_headers()
            elif path == "/login-services/idpArtifactResolutionService":
                self._send(200, node.artifact_resolve(self._body()))
            elif path == "/login-services/singleLogoutService":
                self._send(200, node.sp_logout(self._body()))
            elif path == "/_fake/logout":
                node.logout(self._form().get("session", ""))
                self.send_response(303)
                self.send_header("Location", "/_fake/")
                self.send_header("Content-Length", "0")
                self.end_headers()
            else:
                self._page("Nie znaleziono", "<h1>Nie znaleziono</h1>", 404)
        except (ValueError, KeyError, UnsafeXml, xmldsig.SignatureError) as e:
            log.info("fake node: refused %s: %s", path, e)
            self._page("Błąd żądania", f"<h1>Błąd żądania</h1><p>{html.escape(str(e)[:200])}</p>", 400)

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.node.verbose:
            super().log_message(format, *args)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    node: FakeNode


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m services.logingov.adapters.fake_node", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8097)
    parser.add_argument(
        "--dir", type=Path, default=Path("var/logingov"), help="where node-key.pem and node-cert.pem are"
    )
    parser.add_argument("--sp-metadata", default="http://127.0.0.1:8000/konto/logingovpl/metadata")
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args(argv)
    node = FakeNode(
        directory=args.dir, sp_metadata_url=args.sp_metadata, host=args.host, verbose=args.verbose
    )

    def _terminate(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _terminate)
    try:
        node.start(args.port)
    except OSError as e:
        print(f"fake login.gov.pl: cannot listen on {args.host}:{args.port}: {e}", file=sys.stderr)
        return 2
    print(
        f"fake login.gov.pl at {node.url} (sessions: {node.url}/_fake/), certificate {args.dir / 'node-cert.pem'}",
        flush=True,
    )
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        node.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
