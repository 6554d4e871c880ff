"""The SAML 2.0 profile of Węzeł Krajowy (login.gov.pl), service provider's side (DOMAIN.md §9):

- AuthnRequest sent by auto-POST, answered with the HTTP-Artifact binding; ForceAuthn, eidas:SPType public,
  the four required natural-person attributes, RequestedAuthnContext minimum LoA; signed ECDSA-SHA256;
- SAMLart → ArtifactResolve over SOAP (signed) → ArtifactResponse (signed by the node) → Response →
  EncryptedAssertion (ECDH-ES, `xmlenc`) → Assertion (signed by the node) → the person (`Identity`);
- single logout over SOAP both ways; the SP's metadata.

Messages are built with pysaml2's classes and read with them from the signed parts only (`xmldsig.verify`
returns what a signature covers). Every check the node's profile asks for is made in `read_artifact_response`:
both signatures, Status, InResponseTo (of the ArtifactResponse to our ArtifactResolve, of the Response and of
the subject confirmation to our AuthnRequest), Destination and Recipient, Issuer, Audience, the validity
window (with `SKEW`), bearer confirmation, the LoA. Replays (an artifact or assertion seen before) are the
caller's check: they need the database. No database, no network here."""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from lxml import etree
from saml2 import BINDING_HTTP_ARTIFACT, BINDING_SOAP, ExtensionElement, md, samlp
from saml2 import saml as saml2_saml
from saml2 import xmldsig as ds

from services.forms.validators import is_pesel
from services.signatures.xmlsafe import UnsafeXml, parse_xml

from . import xmldsig, xmlenc

SAML = "urn:oasis:names:tc:SAML:2.0:assertion"
SAMLP = "urn:oasis:names:tc:SAML:2.0:protocol"
SOAP = "http://schemas.xmlsoap.org/soap/envelope/"
EIDAS = "http://eidas.europa.eu/saml-extensions"
NATURAL = "http://eidas.europa.eu/attributes/naturalperson/"
NS = {"saml2": SAML, "saml2p": SAMLP, "soap": SOAP}
PREFIXES = {  # written as the node's own messages write them
    "saml2p": SAMLP,
    "saml2": SAML,
    "md": "urn:oasis:names:tc:SAML:2.0:metadata",
    "ds": "http://www.w3.org/2000/09/xmldsig#",
    "eidas": EIDAS,
}
SUCCESS = "urn:oasis:names:tc:SAML:2.0:status:Success"
BEARER = "urn:oasis:names:tc:SAML:2.0:cm:bearer"
ATTRIBUTES = {  # eIDAS attribute → friendly name, all required
    f"{NATURAL}CurrentGivenName": "FirstName",
    f"{NATURAL}CurrentFamilyName": "FamilyName",
    f"{NATURAL}DateOfBirth": "DateOfBirth",
    f"{NATURAL}PersonIdentifier": "PersonIdentifier",
}
LOA = {  # level of assurance, in order
    "low": "http://eidas.europa.eu/LoA/low",
    "substantial": "http://eidas.europa.eu/LoA/substantial",
    "high": "http://eidas.europa.eu/LoA/high",
}
LOA_RANK = {uri: i for i, uri in enumerate(LOA.values())}
SKEW = timedelta(seconds=90)  # clock difference allowed between the node and us
MAX_AGE = timedelta(minutes=5)  # how old an ArtifactResponse may be


class SamlError(ValueError):
    """A message refused; `code` names the check (logged, shown to the person with a generic sentence)."""

    def __init__(self, code: str, detail: str = ""):
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code


@dataclass(frozen=True)
class Config:
    """Both parties as configured (settings → `services.logingov.config`)."""

    entity_id: str  # ours
    acs_url: str
    slo_url: str
    key: ec.EllipticCurvePrivateKey
    key_pem: bytes
    cert_pem: bytes
    node_entity_id: str
    sso_url: str
    artifact_url: str
    node_slo_url: str
    node_cert_pem: bytes
    loa: str = "substantial"


@dataclass(frozen=True)
class Identity:
    """The person the node vouched for, read from a verified, decrypted assertion."""

    given_names: str
    family_name: str
    birth_date: date
    pesel: str
    loa: str  # "low" | "substantial" | "high"
    name_id: str
    name_id_format: str
    session_index: str
    assertion_id: str
    not_on_or_after: datetime


def new_id() -> str:
    return "ID-" + secrets.token_hex(16)


def instant(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _time(value: str | None, what: str) -> datetime:
    if not value:
        raise SamlError("time_missing", what)
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError as e:
        raise SamlError("time_invalid", what) from e
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment


def _signed(element, cfg: Config) -> bytes:
    """A pysaml2 message signed with our key, as bytes."""
    tree = etree.fromstring(element.to_string(nspair=PREFIXES))
    return etree.tostring(
        xmldsig.sign(tree, cfg.key_pem, cfg.cert_pem), xml_declaration=True, encoding="UTF-8"
    )


def _soap(body: bytes) -> bytes:
    envelope = etree.Element(f"{{{SOAP}}}Envelope", nsmap={"soap": SOAP})
    etree.SubElement(envelope, f"{{{SOAP}}}Header")
    etree.SubElement(envelope, f"{{{SOAP}}}Body").append(etree.fromstring(body))
    return etree.tostring(envelope, xml_declaration=True, encoding="UTF-8")


def soap_body(data: bytes, tag: str) -> etree._Element:
    """The one element of a SOAP 1.1 body, which must be `tag` (a DOCTYPE or a bad envelope: refused)."""
    try:
        root = parse_xml(data)
    except UnsafeXml as e:
        raise SamlError("xml", str(e)) from e
    if root.tag != f"{{{SOAP}}}Envelope":
        raise SamlError("soap", "not a SOAP envelope")
    body = root.findall(f"{{{SOAP}}}Body")
    children = [c for c in body[0] if isinstance(c.tag, str)] if len(body) == 1 else []
    if len(children) != 1 or children[0].tag != tag:
        raise SamlError("soap", f"the body does not hold one {etree.QName(tag).localname}")
    return children[0]


def _cert_b64(cert_pem: bytes) -> str:
    cert = x509.load_pem_x509_certificate(cert_pem)
    from cryptography.hazmat.primitives.serialization import Encoding

    return base64.b64encode(cert.public_bytes(Encoding.DER)).decode()


# ------------------------------------------------------------------------------------------ requests
def authn_request(cfg: Config, request_id: str, now: datetime) -> bytes:
    """The signed AuthnRequest (the browser carries it to the node's SingleSignOnService by auto-POST)."""
    requested = [
        ExtensionElement(
            "RequestedAttribute",
            namespace=EIDAS,
            attributes={
                "Name": name,
                "FriendlyName": friendly,
                "NameFormat": "urn:oasis:names:tc:SAML:2.0:attrname-format:uri",
                "isRequired": "true",
            },
        )
        for name, friendly in ATTRIBUTES.items()
    ]
    req = samlp.AuthnRequest(
        id=request_id,
        version="2.0",
        issue_instant=instant(now),
        destination=cfg.sso_url,
        force_authn="true",
        is_passive="false",
        protocol_binding=BINDING_HTTP_ARTIFACT,
        assertion_consumer_service_url=cfg.acs_url,
        issuer=saml2_saml.Issuer(text=cfg.entity_id),
        extensions=samlp.Extensions(
            extension_elements=[
                ExtensionElement("SPType", namespace=EIDAS, text="public"),
                ExtensionElement("RequestedAttributes", namespace=EIDAS, children=requested),
            ]
        ),
        name_id_policy=samlp.NameIDPolicy(
            allow_create="true", format="urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified"
        ),
        requested_authn_context=samlp.RequestedAuthnContext(
            comparison="minimum", authn_context_class_ref=[saml2_saml.AuthnContextClassRef(text=LOA[cfg.loa])]
        ),
    )
    return _signed(req, cfg)


def artifact_resolve(cfg: Config, artifact: str, resolve_id: str, now: datetime) -> bytes:
    """The SOAP envelope carrying our signed ArtifactResolve for `artifact`."""
    msg = samlp.ArtifactResolve(
        id=resolve_id,
        version="2.0",
        issue_instant=instant(now),
        destination=cfg.artifact_url,
        issuer=saml2_saml.Issuer(text=cfg.entity_id),
        artifact=samlp.Artifact(text=artifact),
    )
    return _soap(_signed(msg, cfg))


def logout_request(
    cfg: Config, name_id: str, name_id_format: str, session_index: str, now: datetime
) -> tuple[str, bytes]:
    """(its ID, the SOAP envelope with our signed LogoutRequest) ending the person's session at the node."""
    request_id = new_id()
    msg = samlp.LogoutRequest(
        id=request_id,
        version="2.0",
        issue_instant=instant(now),
        destination=cfg.node_slo_url,
        issuer=saml2_saml.Issuer(text=cfg.entity_id),
        name_id=saml2_saml.NameID(text=name_id, format=name_id_format or None),
        session_index=[samlp.SessionIndex(text=session_index)] if session_index else None,
    )
    return request_id, _soap(_signed(msg, cfg))


def logout_response(cfg: Config, in_response_to: str, now: datetime, *, ok: bool = True) -> bytes:
    """The SOAP envelope with our signed LogoutResponse to the node's LogoutRequest."""
    code = SUCCESS if ok else "urn:oasis:names:tc:SAML:2.0:status:Requester"
    msg = samlp.LogoutResponse(
        id=new_id(),
        version="2.0",
        issue_instant=instant(now),
        destination=cfg.node_slo_url,
        in_response_to=in_response_to or None,
        issuer=saml2_saml.Issuer(text=cfg.entity_id),
        status=samlp.Status(status_code=samlp.StatusCode(value=code)),
    )
    return _soap(_signed(msg, cfg))


def metadata(cfg: Config) -> bytes:
    """Our SAML metadata (signed): the entity ID, the signing and the encryption key (the node encrypts the
    assertion to it), the artifact ACS and the SOAP single logout service."""
    cert = ds.X509Data(x509_certificate=ds.X509Certificate(text=_cert_b64(cfg.cert_pem)))
    descriptor = md.EntityDescriptor(
        entity_id=cfg.entity_id,
        id="_" + hashlib.sha256(cfg.entity_id.encode()).hexdigest()[:32],
        spsso_descriptor=md.SPSSODescriptor(
            protocol_support_enumeration=samlp.NAMESPACE,
            authn_requests_signed="true",
            want_assertions_signed="true",
            key_descriptor=[
                md.KeyDescriptor(use=use, key_info=ds.KeyInfo(x509_data=[cert]))
                for use in ("signing", "encryption")
            ],
            single_logout_service=[md.SingleLogoutService(binding=BINDING_SOAP, location=cfg.slo_url)],
            name_id_format=[md.NameIDFormat(text="urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified")],
            assertion_consumer_service=[
                md.AssertionConsumerService(
                    binding=BINDING_HTTP_ARTIFACT, location=cfg.acs_url, index="1", is_default="true"
                )
            ],
        ),
    )
    return _signed(descriptor, cfg)


# ------------------------------------------------------------------------------------------ artifact
def check_artifact(artifact: str, node_entity_id: str) -> str:
    """A SAMLart of type 0x0004 whose source is the configured node; returns it normalised."""
    text = (artifact or "").strip()
    if not text or len(text) > 100:
        raise SamlError("artifact", "missing or too long")
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as e:
        raise SamlError("artifact", "not base64") from e
    if len(raw) != 44 or raw[:2] != b"\x00\x04":
        raise SamlError("artifact", "not a type 4 artifact")
    if raw[4:24] != hashlib.sha1(node_entity_id.encode()).digest():  # noqa: S324 -- the artifact's SourceID is SHA-1 by the standard
        raise SamlError("artifact", "from another source")
    return text


def make_artifact(entity_id: str, index: int = 0) -> str:
    """An artifact for `entity_id` (the node's side; the fake node and tests)."""
    source = hashlib.sha1(entity_id.encode()).digest()  # noqa: S324 -- SourceID is SHA-1 by the standard
    return base64.b64encode(
        b"\x00\x04" + index.to_bytes(2, "big") + source + secrets.token_bytes(20)
    ).decode()


# ------------------------------------------------------------------------------------------ responses
def _status_ok(message: etree._Element, what: str) -> None:
    code = message.find("saml2p:Status/saml2p:StatusCode", NS)
    if code is None or code.get("Value") != SUCCESS:
        inner = message.find("saml2p:Status/saml2p:StatusCode/saml2p:StatusCode", NS)
        raise SamlError(
            "status",
            f"{what}: {(inner if inner is not None else code).get('Value', '') if code is not None else 'none'}",
        )


def _issuer(message: etree._Element, cfg: Config, what: str) -> None:
    issuer = message.find("saml2:Issuer", NS)
    if issuer is None or (issuer.text or "").strip() != cfg.node_entity_id:
        raise SamlError("issuer", what)


def _pesel(value: str) -> str:
    digits = value.strip()
    if digits.upper().startswith("PL/PL/"):  # the eIDAS form "PL/PL/<PESEL>"
        digits = digits[6:]
    if not re.fullmatch(r"\d{11}", digits) or not is_pesel(digits):  # the forms' own check: checksum, date
        raise SamlError("attribute", "PersonIdentifier is not a valid PESEL")
    return digits


def read_artifact_response(
    cfg: Config, data: bytes, *, resolve_id: str, request_id: str, now: datetime
) -> Identity:
    """The person in the node's SOAP answer to our ArtifactResolve `resolve_id`, answering our AuthnRequest
    `request_id`; every check of the profile, else SamlError."""
    art = soap_body(data, f"{{{SAMLP}}}ArtifactResponse")
    try:
        art = xmldsig.verify(art, cfg.node_cert_pem)
    except xmldsig.SignatureError as e:
        raise SamlError("signature", f"ArtifactResponse: {e}") from e
    _issuer(art, cfg, "ArtifactResponse")
    _status_ok(art, "ArtifactResponse")
    if art.get("InResponseTo") != resolve_id:
        raise SamlError("in_response_to", "ArtifactResponse")
    issued = _time(art.get("IssueInstant"), "ArtifactResponse IssueInstant")
    if issued > now + SKEW or issued < now - MAX_AGE - SKEW:
        raise SamlError("expired", "ArtifactResponse IssueInstant")
    responses = art.findall("saml2p:Response", NS)
    if len(responses) != 1:
        raise SamlError("response", "the ArtifactResponse holds no Response")
    response = responses[0]
    if response.find("{http://www.w3.org/2000/09/xmldsig#}Signature") is not None:
        try:  # signed as well: checked too (the ArtifactResponse's signature already covers it)
            response = xmldsig.verify(response, cfg.node_cert_pem)
        except xmldsig.SignatureError as e:
            raise SamlError("signature", f"Response: {e}") from e
    _issuer(response, cfg, "Response")
    if response.get("InResponseTo") != request_id:
        raise SamlError("in_response_to", "Response")
    if response.get("Destination") not in (None, cfg.acs_url):
        raise SamlError("destination", "Response")
    _status_ok(response, "Response")
    if response.findall("saml2:Assertion", NS):
        raise SamlError("unencrypted", "the node sends only encrypted assertions")
    encrypted = response.findall("saml2:EncryptedAssertion", NS)
    if len(encrypted) != 1:
        raise SamlError("assertion", f"{len(encrypted)} encrypted assertions")
    try:
        plain = xmlenc.decrypt(encrypted[0], cfg.key)
    except xmlenc.DecryptionError as e:
        raise SamlError("decryption", str(e)) from e
    try:
        assertion = parse_xml(plain)
    except UnsafeXml as e:
        raise SamlError("xml", f"assertion: {e}") from e
    if assertion.tag != f"{{{SAML}}}Assertion":
        raise SamlError("assertion", "the encrypted data are not an assertion")
    try:
        assertion = xmldsig.verify(assertion, cfg.node_cert_pem)
    except xmldsig.SignatureError as e:
        raise SamlError("signature", f"Assertion: {e}") from e
    return _identity(cfg, assertion, request_id=request_id, now=now)


def _identity(cfg: Config, signed: etree._Element, *, request_id: str, now: datetime) -> Identity:
    a = saml2_saml.assertion_from_string(etree.tostring(signed))
    if a is None or a.issuer is None or (a.issuer.text or "").strip() != cfg.node_entity_id:
        raise SamlError("issuer", "Assertion")
    if not a.id:
        raise SamlError("assertion", "no ID")
    c = a.conditions
    if c is None or not c.not_on_or_after:
        raise SamlError("conditions", "no validity window")
    not_before, not_after = (
        _time(c.not_before or a.issue_instant, "NotBefore"),
        _time(c.not_on_or_after, "NotOnOrAfter"),
    )
    if now + SKEW < not_before:
        raise SamlError("not_yet_valid", "Assertion")
    if now - SKEW >= not_after:
        raise SamlError("expired", "Assertion")
    audiences = {(au.text or "").strip() for r in c.audience_restriction for au in r.audience}
    if not c.audience_restriction or audiences != {cfg.entity_id}:
        raise SamlError("audience", ", ".join(sorted(audiences))[:200])
    subject = a.subject
    if subject is None or subject.name_id is None or not (subject.name_id.text or "").strip():
        raise SamlError("subject", "no NameID")
    bearer = [
        sc for sc in subject.subject_confirmation if sc.method == BEARER and sc.subject_confirmation_data
    ]
    if not bearer:
        raise SamlError("subject", "no bearer confirmation")
    scd = bearer[0].subject_confirmation_data
    if scd.recipient != cfg.acs_url:
        raise SamlError("destination", "SubjectConfirmationData Recipient")
    if scd.in_response_to != request_id:
        raise SamlError("in_response_to", "SubjectConfirmationData")
    if now - SKEW >= _time(scd.not_on_or_after, "SubjectConfirmationData NotOnOrAfter"):
        raise SamlError("expired", "SubjectConfirmationData")
    if len(a.authn_statement) != 1:
        raise SamlError("authn", "one AuthnStatement expected")
    st = a.authn_statement[0]
    ref = st.authn_context.authn_context_class_ref if st.authn_context is not None else None
    loa_uri = (ref.text or "").strip() if ref is not None else ""
    if loa_uri not in LOA_RANK or LOA_RANK[loa_uri] < LOA_RANK[LOA[cfg.loa]]:
        raise SamlError("loa", loa_uri[:100])
    values: dict[str, str] = {}
    for statement in a.attribute_statement:
        for attr in statement.attribute:
            if attr.name in ATTRIBUTES and attr.attribute_value:
                values[attr.name] = (attr.attribute_value[0].text or "").strip()[:200]
    missing = [ATTRIBUTES[n] for n in ATTRIBUTES if not values.get(n)]
    if missing:
        raise SamlError("attribute", "missing " + ", ".join(missing))
    try:
        birth = date.fromisoformat(values[f"{NATURAL}DateOfBirth"])
    except ValueError as e:
        raise SamlError("attribute", "DateOfBirth") from e
    return Identity(
        given_names=values[f"{NATURAL}CurrentGivenName"],
        family_name=values[f"{NATURAL}CurrentFamilyName"],
        birth_date=birth,
        pesel=_pesel(values[f"{NATURAL}PersonIdentifier"]),
        loa=next(k for k, v in LOA.items() if v == loa_uri),
        name_id=subject.name_id.text.strip()[:200],
        name_id_format=(subject.name_id.format or "")[:200],
        session_index=(st.session_index or "")[:200],
        assertion_id=a.id[:200],
        not_on_or_after=not_after,
    )


def read_logout_response(cfg: Config, data: bytes, *, request_id: str) -> bool:
    """Whether the node's signed SOAP LogoutResponse to our `request_id` says Success."""
    msg = soap_body(data, f"{{{SAMLP}}}LogoutResponse")
    try:
        msg = xmldsig.verify(msg, cfg.node_cert_pem)
    except xmldsig.SignatureError as e:
        raise SamlError("signature", f"LogoutResponse: {e}") from e
    _issuer(msg, cfg, "LogoutResponse")
    if msg.get("InResponseTo") != request_id:
        raise SamlError("in_response_to", "LogoutResponse")
    code = msg.find("saml2p:Status/saml2p:StatusCode", NS)
    return code is not None and code.get("Value") == SUCCESS


@dataclass(frozen=True)
class NodeLogout:
    request_id: str
    name_id: str
    session_indexes: tuple[str, ...]


def read_logout_request(cfg: Config, data: bytes, *, now: datetime) -> NodeLogout:
    """The node's signed SOAP LogoutRequest: whose session ends."""
    msg = soap_body(data, f"{{{SAMLP}}}LogoutRequest")
    try:
        msg = xmldsig.verify(msg, cfg.node_cert_pem)
    except xmldsig.SignatureError as e:
        raise SamlError("signature", f"LogoutRequest: {e}") from e
    _issuer(msg, cfg, "LogoutRequest")
    if msg.get("Destination") not in (None, cfg.slo_url):
        raise SamlError("destination", "LogoutRequest")
    issued = _time(msg.get("IssueInstant"), "LogoutRequest IssueInstant")
    if issued > now + SKEW or issued < now - MAX_AGE - SKEW:
        raise SamlError("expired", "LogoutRequest")
    if msg.get("NotOnOrAfter") and now - SKEW >= _time(msg.get("NotOnOrAfter"), "LogoutRequest NotOnOrAfter"):
        raise SamlError("expired", "LogoutRequest NotOnOrAfter")
    name_id = msg.find("saml2:NameID", NS)
    if name_id is None or not (name_id.text or "").strip():
        raise SamlError("subject", "LogoutRequest without NameID")
    return NodeLogout(
        request_id=msg.get("ID", "")[:200],
        name_id=name_id.text.strip()[:200],
        session_indexes=tuple((s.text or "").strip()[:200] for s in msg.findall("saml2p:SessionIndex", NS)),
    )
