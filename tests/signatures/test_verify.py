"""The verifier (services/signatures, `verify_file`) on documents signed by the test PKI (tests/signatures/pki.py):
every format, the trust sources (signed TSL, configured anchors, CRLs), time (expired, revoked, proof of
existence by a timestamp), the signer's identity (qualified certificates, Profil Zaufany) and that nothing
is fetched from the network. The attacks are in test_attacks.py, the HTTP API in test_api.py."""

from __future__ import annotations

import base64
import datetime
import shutil
import socket
from pathlib import Path

import pytest
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from lxml import etree
from signxml import XMLSigner
from signxml.algorithms import DigestAlgorithm, SignatureConstructionMethod, SignatureMethod
from signxml.util import xades_tag

from services.signatures import trust
from services.signatures.verify import verify_file
from tests.signatures import pki as P

PDF_NAME = "wniosek 1.pdf"


# ---------------------------------------------------------------- shared helpers (test_attacks, test_api)
def trusted_pki(directory: Path) -> P.TestPKI:
    """The test PKI with the ministry's Profil Zaufany seal in pz/ of its trust directory."""
    pki = P.make_pki(directory)
    (pki.dir / "pz").mkdir(exist_ok=True)
    (pki.dir / "pz" / "ministry.pem").write_bytes(pki.ministry.cert_pem)
    return pki


def plain_xmldsig_tsl(pki: P.TestPKI) -> bytes:
    """The trusted list re-signed by its pinned signer with plain XML-DSig (no XAdES SignedProperties)."""
    root = etree.fromstring(pki.tsl)
    root.remove(root.find(f"{{{P.DS_NS}}}Signature"))
    signer = XMLSigner(
        method=SignatureConstructionMethod.enveloped,
        signature_algorithm=SignatureMethod.ECDSA_SHA256,
        digest_algorithm=DigestAlgorithm.SHA256,
        c14n_algorithm=P.EXC_C14N,
    )
    return P._xml(signer.sign(root, key=pki.tsl_signer.key, cert=[pki.tsl_signer.cert]))


def use_trust(settings, directory: Path) -> None:
    settings.GISPORTAL_TRUST_DIR = directory
    trust.forget()


def check(data: bytes, name: str = "", **kwargs) -> dict:
    """verify_file(...).as_dict()"""
    return verify_file(data, name, **kwargs).as_dict()


def only(report: dict) -> dict:
    """The one signature of a report (and the file's verdict is that signature's)."""
    assert report["signatures_count"] == len(report["signatures"]) == 1, report
    sig = report["signatures"][0]
    assert (report["indication"], report["sub_indication"]) == (
        sig["indication"],
        sig["sub_indication"] if sig["indication"] != "TOTAL_PASSED" else None,
    )
    return sig


def verdict(sig: dict) -> tuple[str, str | None]:
    return sig["indication"], sig["sub_indication"]


def signer(sig: dict) -> tuple:
    s = sig["signer"]
    return s["name"], s["given_name"], s["surname"], s["identifier_kind"], s["identifier"], s["source"]


JAN = ("Jan Kowalski", "Jan", "Kowalski", "PESEL", P.PERSON_PESEL, "certificate")
GEODEZJA = ("Geodezja Sp. z o.o.", "", "", "NIP", P.COMPANY_NIP, "certificate")


# ---------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def pki(tmp_path_factory) -> P.TestPKI:
    return trusted_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(autouse=True)
def _trust(settings, pki):
    use_trust(settings, pki.dir)
    yield
    trust.forget()


@pytest.fixture
def trust_dir(tmp_path, settings, pki):
    """Make and use another trust directory: `trust_dir(tsl=..., signers=..., crl=..., anchors=[...])`."""

    def make(
        *, tsl: bytes | None = None, signers: bool = True, crl: bool = True, anchors=(), pz: bool = True
    ) -> Path:
        d = tmp_path / "trust"
        shutil.rmtree(d, ignore_errors=True)
        (d / "anchors").mkdir(parents=True)
        if tsl is not None:
            (d / "tsl").mkdir()
            (d / "tsl" / "pl.xml").write_bytes(tsl)
            if signers:
                shutil.copytree(pki.dir / "tsl" / "signers", d / "tsl" / "signers")
        if crl:
            shutil.copytree(pki.dir / "crl", d / "crl")
        if pz:
            shutil.copytree(pki.dir / "pz", d / "pz")
        for i, cert in enumerate(anchors):
            (d / "anchors" / f"a{i}.pem").write_bytes(cert.cert_pem)
        use_trust(settings, d)
        return d

    return make


@pytest.fixture
def no_network(monkeypatch):
    """Fail (and record) any attempt to resolve a name or open a connection."""
    attempts: list[str] = []

    def refuse(what):
        def fn(*args, **kwargs):
            attempts.append(f"{what}{args[1:2] if what == 'connect' else args[:1]}")
            raise OSError(f"network use in a test: {what}")

        return fn

    monkeypatch.setattr(socket, "getaddrinfo", refuse("getaddrinfo"))
    monkeypatch.setattr(socket, "create_connection", refuse("create_connection"))
    monkeypatch.setattr(socket.socket, "connect", refuse("connect"))
    monkeypatch.setattr(socket.socket, "connect_ex", refuse("connect_ex"))
    return attempts


def _old_tsa(pki: P.TestPKI) -> P.Party:
    """A TSA issued by the root whose certificate was already valid 4 years ago."""
    name = P._name((NameOID.COUNTRY_NAME, "PL"), (NameOID.COMMON_NAME, "Testowy znacznik czasu (archiwalny)"))
    return P._party(
        name,
        pki.root,
        valid=(P._days(-1500), P._days(1000)),
        usage=("digital_signature", "content_commitment"),
        eku=[ExtendedKeyUsageOID.TIME_STAMPING],
    )


def _timestamped_at(monkeypatch, xml: bytes, tsa: P.Party, moment: datetime.datetime) -> bytes:
    """An XAdES-BES made XAdES-T with a signature timestamp whose time is `moment` (the TSA's clock set back)."""
    root = etree.fromstring(xml)
    with monkeypatch.context() as m:
        m.setattr(P, "_now", lambda: moment)
        P.add_signature_timestamp(root, tsa)
    return P._xml(root)


class _SigningTimeSigner(P._XAdESSigner):
    """The PKI's XAdES signer with a chosen (claimed) SigningTime."""

    def __init__(self, *args, signing_time: datetime.datetime, **kwargs):
        super().__init__(*args, **kwargs)
        self._signing_time = signing_time

    def add_signing_time(self, signed_signature_properties, sig_root, signing_settings):
        el = etree.SubElement(signed_signature_properties, xades_tag("SigningTime"), nsmap=self.namespaces)
        el.text = self._signing_time.isoformat(timespec="seconds")


def _signed_at(xml: bytes, party: P.Party, moment: datetime.datetime) -> bytes:
    signer = _SigningTimeSigner(SignatureConstructionMethod.enveloped, party.key, signing_time=moment)
    return P._xml(P._sign(signer, etree.fromstring(xml), party, t=False, tsa=None))


def _ago(days: int) -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC).replace(microsecond=0) - datetime.timedelta(days=days)


# ---------------------------------------------------------------- formats
def test_xades_enveloped(pki):
    report = check(P.xades_enveloped(P.sample_xml(), pki.person), "wniosek.xml")
    assert report["format"] == "XAdES" and report["file"]["name"] == "wniosek.xml"
    sig = only(report)
    assert verdict(sig) == ("TOTAL_PASSED", None)
    assert sig["format"] == "XAdES-BES" and sig["whole_document"] is True
    assert signer(sig) == JAN
    assert sig["signing_time"] and sig["timestamp"] is None
    assert sig["trust_anchor"] == "tsl" and sig["qualified"] is True
    assert [c["sha256"] for c in sig["chain"]] == [
        trust.fingerprint(p.asn1_cert) for p in (pki.person, pki.intermediate, pki.root)
    ]
    assert {c["kind"] for c in sig["covers"]} >= {"element", "signed_properties"}
    assert sig["errors"] == []


@pytest.mark.parametrize("content", ["xml", "binary"])
def test_xades_enveloping(pki, content):
    data = P.sample_xml() if content == "xml" else P.sample_pdf()
    sig = only(check(P.xades_enveloping(data, pki.company)))
    assert verdict(sig) == ("TOTAL_PASSED", None)
    assert sig["whole_document"] is True
    assert signer(sig) == GEODEZJA and sig["signer"]["organisation"] == "Geodezja Sp. z o.o."


def test_xades_detached_with_its_file(pki):
    pdf = P.sample_pdf()
    report = check(
        P.xades_detached(pdf, PDF_NAME, pki.person), "podpis.xml", detached=pdf, detached_name="x.pdf"
    )
    sig = only(report)
    assert verdict(sig) == ("TOTAL_PASSED", None) and signer(sig) == JAN
    assert report["detached"]["name"] == "x.pdf" and report["detached"]["size"] == len(pdf)
    assert [c["uri"] for c in sig["covers"] if c["kind"] == "file"] == ["wniosek%201.pdf"]


def test_xades_detached_without_its_file_is_indeterminate(pki):
    sig = only(check(P.xades_detached(P.sample_pdf(), PDF_NAME, pki.person)))
    assert verdict(sig) == ("INDETERMINATE", "SIGNED_DATA_NOT_FOUND")


def test_xades_detached_with_another_file_fails(pki):
    pdf = P.sample_pdf()
    sig = only(check(P.xades_detached(pdf, PDF_NAME, pki.person), detached=P.sample_pdf("Inny wniosek")))
    assert verdict(sig) == ("TOTAL_FAILED", "HASH_FAILURE")


def test_xades_t_timestamp_is_trusted_and_its_time_reported(pki):
    before = datetime.datetime.now(datetime.UTC).replace(microsecond=0)
    sig = only(check(P.xades_enveloped(P.sample_xml(), pki.person_legacy, t=True)))
    assert verdict(sig) == ("TOTAL_PASSED", None) and sig["format"] == "XAdES-T"
    ts = sig["timestamp"]
    assert ts["trusted"] is True and ts["intact"] is True and ts["valid"] is True and ts["problem"] is None
    assert "Testowy Kwalifikowany Znacznik Czasu" in ts["tsa"]
    assert abs(datetime.datetime.fromisoformat(ts["time"]) - before) < datetime.timedelta(minutes=2)


def test_pades_b_b(pki):
    report = check(P.pades(P.sample_pdf(), pki.person), "wniosek.pdf")
    assert report["format"] == "PAdES"
    sig = only(report)
    assert verdict(sig) == ("TOTAL_PASSED", None) and sig["format"] == "PAdES-B-B"
    assert sig["id"] == "Podpis" and signer(sig) == JAN and sig["timestamp"] is None
    assert sig["whole_document"] is True and sig["covers"][0]["coverage"] == "ENTIRE_FILE"
    assert sig["trust_anchor"] == "tsl" and sig["qualified"] is True


def test_pades_b_t(pki):
    sig = only(check(P.pades(P.sample_pdf(), pki.company, timestamp=True)))
    assert verdict(sig) == ("TOTAL_PASSED", None) and sig["format"] == "PAdES-B-T"
    assert signer(sig) == GEODEZJA
    assert sig["timestamp"]["trusted"] is True and sig["timestamp"]["time"]


@pytest.mark.parametrize("signing_certificate_v2", [False, True], ids=["pkcs7", "cades-bes"])
def test_cades_attached(pki, signing_certificate_v2):
    p7s = P.cades(
        b"dane wniosku\n", pki.person, detached=False, signing_certificate_v2=signing_certificate_v2
    )
    report = check(p7s, "wniosek.txt.p7s")
    assert report["format"] == "CAdES"
    sig = only(report)
    assert verdict(sig) == ("TOTAL_PASSED", None) and sig["format"] == "CAdES-BES"
    assert signer(sig) == JAN and sig["covers"][0]["attached"] is True and sig["whole_document"] is True
    assert sig["trust_anchor"] == "tsl" and sig["qualified"] is True


@pytest.mark.parametrize("signing_certificate_v2", [False, True], ids=["pkcs7", "cades-bes"])
def test_cades_detached(pki, signing_certificate_v2):
    data = b"dane wniosku\n"
    p7s = P.cades(data, pki.person, signing_certificate_v2=signing_certificate_v2)
    sig = only(check(p7s, "wniosek.txt.p7s", detached=data, detached_name="wniosek.txt"))
    assert verdict(sig) == ("TOTAL_PASSED", None) and signer(sig) == JAN
    assert sig["covers"] == [{"kind": "file", "name": "wniosek.txt", "attached": False}]
    assert verdict(only(check(p7s))) == ("INDETERMINATE", "SIGNED_DATA_NOT_FOUND")
    assert verdict(only(check(p7s, detached=data + b"!"))) == ("TOTAL_FAILED", "HASH_FAILURE")


def test_cades_pem_armoured(pki):
    der = P.cades(b"dane", pki.person, detached=False)
    armoured = b"-----BEGIN PKCS7-----\n" + base64.encodebytes(der) + b"-----END PKCS7-----\n"
    assert verdict(only(check(armoured))) == ("TOTAL_PASSED", None)


@pytest.mark.parametrize("kind", ["p7s", "xades"])
def test_asic_s(pki, kind):
    xml = P.sample_xml()
    signature = (
        P.cades(xml, pki.person) if kind == "p7s" else P.xades_detached(xml, "wniosek.xml", pki.person)
    )
    report = check(P.asic_s("wniosek.xml", xml, signature, kind=kind), "wniosek.asics")
    assert report["format"] == "ASiC-S"
    sig = only(report)
    assert verdict(sig) == ("TOTAL_PASSED", None) and signer(sig) == JAN and sig["whole_document"] is True


def _files() -> dict[str, bytes]:
    return {"wniosek.xml": P.sample_xml(), "mapa.pdf": P.sample_pdf()}


def _rezip(container: bytes, *, add: dict | None = None, change: dict | None = None) -> bytes:
    """The container with members added or changed (same order, mimetype stored first)."""
    import io
    import zipfile

    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(container)) as old, zipfile.ZipFile(out, "w") as new:
        for info in old.infolist():
            new.writestr(info, (change or {}).get(info.filename, old.read(info)))
        for name, data in (add or {}).items():
            new.writestr(name, data, compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()


@pytest.mark.parametrize("kind", ["xades", "cades"])
def test_asic_e(pki, kind):
    files = _files()
    container = P.asic_e_xades(files, pki.person) if kind == "xades" else P.asic_e_cades(files, pki.person)
    report = check(container, "wniosek.asice")
    assert report["format"] == "ASiC-E"
    sig = only(report)
    assert verdict(sig) == ("TOTAL_PASSED", None) and signer(sig) == JAN and sig["whole_document"] is True
    names = {c.get("uri") or c.get("name") for c in sig["covers"] if c["kind"] == "file"}
    assert names >= set(files)


@pytest.mark.parametrize("kind", ["xades", "cades"])
def test_asic_e_a_file_added_is_reported_not_covered(pki, kind):
    files = _files()
    container = P.asic_e_xades(files, pki.person) if kind == "xades" else P.asic_e_cades(files, pki.person)
    sig = only(check(_rezip(container, add={"dopisany.txt": b"nie podpisany"})))
    # the signature itself is valid; the report says it does not cover the whole container
    assert verdict(sig) == ("TOTAL_PASSED", None)
    assert sig["whole_document"] is False
    assert any("not" in e and ("dopisany.txt" in e or "manifest" in e) for e in sig["errors"]), sig["errors"]


@pytest.mark.parametrize("kind", ["xades", "cades"])
def test_asic_e_a_file_changed_fails(pki, kind):
    files = _files()
    container = P.asic_e_xades(files, pki.person) if kind == "xades" else P.asic_e_cades(files, pki.person)
    sig = only(check(_rezip(container, change={"mapa.pdf": P.sample_pdf("Inna mapa")})))
    assert verdict(sig) == ("TOTAL_FAILED", "HASH_FAILURE")


def test_asic_s_a_file_changed_fails(pki):
    xml = P.sample_xml()
    container = P.asic_s("wniosek.xml", xml, P.cades(xml, pki.person))
    changed = _rezip(container, change={"wniosek.xml": xml.replace(b"2026-01-15", b"2026-01-16")})
    assert verdict(only(check(changed))) == ("TOTAL_FAILED", "HASH_FAILURE")


# ---------------------------------------------------------------- trust
def test_trusted_list_is_read_and_reported(pki):
    report = check(P.xades_enveloped(P.sample_xml(), pki.person))
    assert report["trust"]["lists"] == [
        {
            "file": "pl.xml",
            "territory": "PL",
            "issued": report["trust"]["lists"][0]["issued"],
            "accepted": True,
        }
    ]
    assert report["trust"]["anchors"] >= 2  # the root (CA/QC) and the TSA (TSA/QTST)


def test_tampered_tsl_trusts_nothing(pki, trust_dir):
    trust_dir(tsl=P.tampered_tsl(pki))
    for party in (pki.person, pki.stranger):
        report = check(P.xades_enveloped(P.sample_xml(), party))
        assert verdict(only(report)) == ("INDETERMINATE", "NO_CERTIFICATE_CHAIN_FOUND")
        assert report["trust"]["lists"][0]["accepted"] is False


def test_tsl_without_a_pinned_signer_trusts_nothing(pki, trust_dir):
    trust_dir(tsl=pki.tsl, signers=False)
    report = check(P.xades_enveloped(P.sample_xml(), pki.person))
    assert verdict(only(report)) == ("INDETERMINATE", "NO_CERTIFICATE_CHAIN_FOUND")
    assert report["trust"]["lists"][0]["accepted"] is False


def test_tsl_signed_by_another_key_trusts_nothing(pki, trust_dir):
    other = P._party(
        P._name((NameOID.COMMON_NAME, "Testowy podpisujący listę TSL")),
        None,
        valid=(P._days(-1), P._days(30)),
        usage=("digital_signature",),
    )
    forged = etree.fromstring(P.tampered_tsl(pki))
    forged.remove(forged.find(f"{{{P.DS_NS}}}Signature"))
    signer = P._XAdESSigner(SignatureConstructionMethod.enveloped, other.key)
    trust_dir(tsl=P._xml(P._sign(signer, forged, other, t=False, tsa=None)))
    for party in (pki.person, pki.stranger):
        assert verdict(only(check(P.xades_enveloped(P.sample_xml(), party)))) == (
            "INDETERMINATE",
            "NO_CERTIFICATE_CHAIN_FOUND",
        )


def test_tsl_signed_with_plain_xmldsig_is_refused(pki, trust_dir):
    """TS 119 612 lists are XAdES; a list signed by its pinned signer with plain XML-DSig is not accepted."""
    trust_dir(tsl=plain_xmldsig_tsl(pki))
    report = check(P.xades_enveloped(P.sample_xml(), pki.person))
    assert verdict(only(report)) == ("INDETERMINATE", "NO_CERTIFICATE_CHAIN_FOUND")
    assert report["trust"]["lists"][0]["accepted"] is False


def test_root_configured_in_anchors(pki, trust_dir):
    trust_dir(anchors=[pki.root])
    report = check(P.pades(P.sample_pdf(), pki.person))
    sig = only(report)
    assert verdict(sig) == ("TOTAL_PASSED", None)
    assert sig["trust_anchor"] == "config" and sig["qualified"] is None  # no trusted list applies
    assert report["trust"]["lists"] == []


def test_stranger_is_not_trusted(pki):
    for document in (
        P.xades_enveloped(P.sample_xml(), pki.stranger),
        P.pades(P.sample_pdf(), pki.stranger),
        P.cades(b"dane", pki.stranger, detached=False),
    ):
        sig = only(check(document))
        assert verdict(sig) == ("INDETERMINATE", "NO_CERTIFICATE_CHAIN_FOUND")
        assert sig["trust_anchor"] is None
        assert sig["signer"]["identifier"] == P.PERSON_PESEL  # who it claims to be, but not trusted


def test_expired_without_proof_of_existence(pki):
    sig = only(check(P.xades_enveloped(P.sample_xml(), pki.expired)))
    assert verdict(sig) == ("INDETERMINATE", "OUT_OF_BOUNDS_NO_POE")
    assert sig["signer"]["identifier"] == P.EXPIRED_PESEL


def test_expired_with_a_trusted_timestamp_inside_its_validity(pki, monkeypatch):
    signed = P.xades_enveloped(P.sample_xml(), pki.expired)
    moment = _ago(800)  # the certificate was valid from 1095 to 730 days ago
    sig = only(check(_timestamped_at(monkeypatch, signed, _old_tsa(pki), moment)))
    assert sig["format"] == "XAdES-T" and sig["timestamp"]["trusted"] is True
    assert datetime.datetime.fromisoformat(sig["timestamp"]["time"]) == moment
    assert verdict(sig) == ("TOTAL_PASSED", None)
    assert datetime.datetime.fromisoformat(sig["best_signature_time"]) == moment


def test_expired_with_a_timestamp_after_expiry_stays_indeterminate(pki):
    sig = only(check(P.xades_enveloped(P.sample_xml(), pki.expired, t=True)))
    assert sig["timestamp"]["trusted"] is True
    assert verdict(sig) == ("INDETERMINATE", "OUT_OF_BOUNDS_NO_POE")


def test_revoked_signed_after_revocation_fails(pki):
    """Revoked a day ago; the signer claims to have signed now: TOTAL_FAILED/REVOKED (EN 319 102-1)."""
    for document in (
        P.xades_enveloped(P.sample_xml(), pki.revoked),
        P.pades(P.sample_pdf(), pki.revoked),
        P.cades(b"dane", pki.revoked, detached=False),
    ):
        sig = only(check(document))
        assert verdict(sig) == ("TOTAL_FAILED", "REVOKED")
        assert sig["signer"]["identifier"] == P.REVOKED_PESEL


def test_revoked_claiming_to_have_signed_before_revocation_is_indeterminate(pki):
    claimed = _ago(2)  # revoked 1 day ago
    sig = only(check(_signed_at(P.sample_xml(), pki.revoked, claimed)))
    assert datetime.datetime.fromisoformat(sig["signing_time"]) == claimed
    assert verdict(sig) == ("INDETERMINATE", "REVOKED_NO_POE")


def test_revoked_with_a_trusted_timestamp_before_revocation_passes(pki, monkeypatch):
    signed = _signed_at(P.sample_xml(), pki.revoked, _ago(2))
    sig = only(check(_timestamped_at(monkeypatch, signed, pki.tsa, _ago(2))))
    assert sig["timestamp"]["trusted"] is True
    assert verdict(sig) == ("TOTAL_PASSED", None)


def test_revoked_certificate_passes_without_a_crl_soft_fail(pki, trust_dir, no_network):
    """Soft-fail: with no CRL in crl/ (and fetching off) the revocation is unknown and not held against it."""
    trust_dir(tsl=pki.tsl, crl=False)
    sig = only(check(P.xades_enveloped(P.sample_xml(), pki.revoked)))
    assert verdict(sig) == ("TOTAL_PASSED", None)
    assert no_network == []


@pytest.mark.parametrize("fetch", [False, True], ids=["fetch-off", "fetch-on-other-host"])
def test_nothing_is_fetched_for_a_certificate_with_a_crl_url(pki, trust_dir, settings, no_network, fetch):
    settings.GISPORTAL_REVOCATION_FETCH = fetch
    settings.GISPORTAL_REVOCATION_HOSTS = ["crl.example.org"] if fetch else []
    trust_dir(tsl=pki.tsl, crl=False)  # no CRL here: a verifier that fetches would try P.CRL_URL
    for document in (
        P.xades_enveloped(P.sample_xml(), pki.person),
        P.pades(P.sample_pdf(), pki.person),
        P.cades(b"dane", pki.person, detached=False),
    ):
        assert verdict(only(check(document))) == ("TOTAL_PASSED", None)
    assert no_network == []


# ---------------------------------------------------------------- identity
def test_identity_pnopl(pki):
    sig = only(check(P.cades(b"dane", pki.person, detached=False)))
    assert signer(sig) == JAN and sig["signer"]["country"] == "PL"


def test_identity_legacy_pesel(pki):
    sig = only(check(P.xades_enveloped(P.sample_xml(), pki.person_legacy)))
    assert signer(sig) == ("Anna Nowak", "Anna", "Nowak", "PESEL", P.LEGACY_PESEL, "certificate")


def test_identity_company_seal(pki):
    sig = only(check(P.pades(P.sample_pdf(), pki.company)))
    assert signer(sig) == GEODEZJA and sig["qualified"] is True


def test_profil_zaufany(pki):
    document = P.pz_xades(
        P.sample_xml(), pki, imie="Anna", nazwisko="Nowak", pesel=P.LEGACY_PESEL, account="anowak"
    )
    sig = only(check(document))
    assert verdict(sig) == ("TOTAL_PASSED", None)
    assert sig["profil_zaufany"] is True
    assert signer(sig) == ("Anna Nowak", "Anna", "Nowak", "PESEL", P.LEGACY_PESEL, "profil_zaufany")
    assert sig["signer"]["epuap_account"] == "anowak"
    assert sig["certificate"]["subject"].find("Podpis zaufany") != -1  # the ministry's seal signed it


def test_podpis_zp_signed_by_a_person_is_not_profil_zaufany(pki):
    zp = P.podpis_zp(imie="Anna", nazwisko="Nowak", pesel=P.LEGACY_PESEL, account="anowak")
    signer_ = P._XAdESSigner(SignatureConstructionMethod.enveloped, pki.person.key, claimed_role=zp)
    document = P._xml(P._sign(signer_, etree.fromstring(P.sample_xml()), pki.person, t=False, tsa=None))
    sig = only(check(document))
    assert sig["profil_zaufany"] is False
    assert signer(sig) == JAN  # the certificate's holder, not the PodpisZP's claim
    assert verdict(sig) == ("INDETERMINATE", "SIG_CONSTRAINTS_FAILURE")


def test_ministry_seal_not_in_pz_folder_is_not_profil_zaufany(pki, trust_dir):
    trust_dir(tsl=pki.tsl, pz=False)
    sig = only(check(P.pz_xades(P.sample_xml(), pki)))
    assert sig["profil_zaufany"] is False and sig["signer"]["source"] == "certificate"
    assert verdict(sig) == ("INDETERMINATE", "SIG_CONSTRAINTS_FAILURE")


def test_podpis_zp_altered_after_signing_fails(pki):
    document = P.pz_xades(P.sample_xml(), pki)
    tail = b"</os:PESEL>"
    altered = document.replace(P.PERSON_PESEL.encode() + tail, P.LEGACY_PESEL.encode() + tail)
    assert altered.count(P.LEGACY_PESEL.encode()) == 1
    sig = only(check(altered))
    assert verdict(sig) == ("TOTAL_FAILED", "HASH_FAILURE")
    assert sig["profil_zaufany"] is False and sig["signer"]["identifier"] != P.LEGACY_PESEL


def test_the_network_guard_sees_a_fetch_to_an_allowed_host(pki, trust_dir, settings, no_network):
    """The guard of the test above works: with fetching on for the CRL's host, the request is attempted."""
    settings.GISPORTAL_REVOCATION_FETCH = True
    settings.GISPORTAL_REVOCATION_HOSTS = ["crl.pki.test"]
    trust_dir(tsl=pki.tsl, crl=False)
    sig = only(check(P.cades(b"dane", pki.person, detached=False)))
    assert any("crl.pki.test" in attempt for attempt in no_network), no_network
    assert verdict(sig) == ("TOTAL_PASSED", None)  # soft-fail: an unreachable CRL is not held against it
