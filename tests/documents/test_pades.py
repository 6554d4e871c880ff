"""PAdES B-T seals on issued documents and the check of a copy: genuine only for an untouched file sealed
with an office's own certificate and timestamped by a trusted TSA; altered for a byte edit or an
incremental update after sealing; unknown for other offices, look-alike certificates and junk. The local
TSA answers in process and over HTTP, and its key is never replaced silently."""

from __future__ import annotations

import asyncio
import datetime
import hashlib
import http.client
import threading
import time
from io import BytesIO
from urllib.parse import urlsplit

import pytest
import weasyprint
from asn1crypto import core, tsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.misc import PdfReadError
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.timestamps import HTTPTimeStamper, TimestampRequestError
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.generic_cms import validate_tst_signed_data
from pyhanko.sign.validation.status import SignatureCoverageLevel, TimestampSignatureStatus
from pyhanko_certvalidator import ValidationContext

from services.documents import pades, tsa
from services.documents.pades import check_pdf, seal_pdf
from services.offices import seals
from services.offices.models import Office
from services.offices.seals import Seal, seal_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def seal_dir(settings, tmp_path):
    """Seals and the local TSA of this test only, generated on first use (as in the demo)."""
    settings.GISPORTAL_SEAL_DIR = tmp_path / "seals"
    settings.GISPORTAL_SEAL_GENERATE = True
    settings.GISPORTAL_TSA_URL = ""
    seals._cache.clear()
    tsa._cache.clear()
    yield settings.GISPORTAL_SEAL_DIR
    seals._cache.clear()
    tsa._cache.clear()


@pytest.fixture
def office(seal_dir):
    return Office.objects.get(code="um-piaseczno")


@pytest.fixture
def other_office(seal_dir):
    return Office.objects.get(code="sp-piaseczno")


@pytest.fixture(scope="module")
def pdf() -> bytes:
    return weasyprint.HTML(string="<p>Test</p>").write_pdf()


@pytest.fixture
def sealed(pdf, office) -> bytes:
    return seal_pdf(pdf, office, reason="Wypis z rejestru gruntów WG/1/2026", location="Piaseczno")


def _asn1(cert: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))


def _flip(data: bytes, at: int) -> bytes:
    return data[:at] + bytes([data[at] ^ 0x01]) + data[at + 1 :]


# ---------------------------------------------------------------- genuine
def test_sealed_pdf_is_genuine(pdf, office):
    start = time.perf_counter()
    sealed = seal_pdf(pdf, office, reason="Wypis", location="Piaseczno")
    print(f"\nseal_pdf on a 1-page PDF: {(time.perf_counter() - start) * 1000:.0f} ms")
    v = check_pdf(sealed, [office])
    assert v.verdict == "genuine", v
    assert v.signed_by == office.name and v.office_code == office.code
    assert abs(v.timestamp_at - datetime.datetime.now(datetime.UTC)) < datetime.timedelta(minutes=1)
    assert v.details["coverage"] == "ENTIRE_FILE" and v.details["signature_location"] == "Piaseczno"
    assert sealed.startswith(pdf)  # an incremental update: the document's own bytes are untouched


def test_pyhanko_validator_agrees(sealed, office, other_office):
    sig = PdfFileReader(BytesIO(sealed)).embedded_regular_signatures[0]
    assert sig.sig_object["/SubFilter"] == "/ETSI.CAdES.detached"
    assert sig.signer_info["digest_algorithm"]["algorithm"].native == "sha256"
    assert sig.field_name == "Pieczec"
    office_root = _asn1(seal_for(office).certificate)
    tsa_root = _asn1(tsa.tsa_certificate())
    status = validate_pdf_signature(
        sig,
        ValidationContext(trust_roots=[office_root], allow_fetching=False),
        ts_validation_context=ValidationContext(trust_roots=[tsa_root], allow_fetching=False),
    )
    assert status.intact and status.valid and status.trusted
    assert status.coverage == SignatureCoverageLevel.ENTIRE_FILE
    assert status.timestamp_validity is not None and status.timestamp_validity.trusted
    # and it can say no: another office's certificate as the only root does not trust the seal
    stranger = _asn1(seal_for(other_office).certificate)
    sig = PdfFileReader(BytesIO(sealed)).embedded_regular_signatures[0]
    status = validate_pdf_signature(
        sig,
        ValidationContext(trust_roots=[stranger], allow_fetching=False),
        ts_validation_context=ValidationContext(trust_roots=[stranger], allow_fetching=False),
    )
    assert status.intact and not status.trusted and not status.timestamp_validity.trusted


# ---------------------------------------------------------------- altered
def test_byte_edit_in_the_document_is_altered(sealed, pdf, office):
    at = pdf.index(b"stream\n") + len(b"stream\n") + 8  # inside the first (compressed) stream
    v = check_pdf(_flip(sealed, at), [office])
    assert v.verdict == "altered" and v.details["problem"] == "signature", v
    assert v.details["intact"] is False


def test_byte_edit_in_the_signature_dictionary_is_altered(sealed, pdf, office):
    at = sealed.index(b"Wypis", len(pdf))  # the /Reason string, inside the signed byte range
    v = check_pdf(sealed[:at] + b"X" + sealed[at + 1 :], [office])
    assert v.verdict == "altered", v


def _hex_at(sealed: bytes, part: bytes) -> int:
    """Where the DER bytes `part` of the signature's CMS sit in the file's /Contents hex string."""
    at = sealed.upper().index(part.hex().upper().encode())
    assert sealed.upper().count(part.hex().upper().encode()) == 1
    return at + len(part.hex()) // 2


def test_edited_signature_value_is_altered(sealed, office):
    sig = PdfFileReader(BytesIO(sealed)).embedded_regular_signatures[0]
    at = _hex_at(sealed, sig.signer_info["signature"].native)
    edited = sealed[:at] + (b"0" if sealed[at : at + 1] != b"0" else b"1") + sealed[at + 1 :]
    v = check_pdf(edited, [office])
    assert v.verdict == "altered" and v.details["valid"] is False, v


def test_edited_embedded_certificate_is_not_genuine(sealed, office):
    sig = PdfFileReader(BytesIO(sealed)).embedded_regular_signatures[0]
    assert len(sig.signed_data["certificates"]) == 1  # embedded once: no spare copy to fall back on
    at = _hex_at(sealed, sig.signer_cert["tbs_certificate"]["subject_public_key_info"].dump())
    edited = sealed[:at] + (b"0" if sealed[at : at + 1] != b"0" else b"1") + sealed[at + 1 :]
    assert check_pdf(edited, [office]).verdict == "unknown"


def _update(sealed: bytes, change) -> bytes:
    w = IncrementalPdfFileWriter(BytesIO(sealed))
    change(w)
    out = BytesIO()
    w.write(out)
    return out.getvalue()


def test_incremental_update_with_metadata_is_altered(sealed, office):
    def retitle(w):
        info = w.trailer["/Info"]
        info["/Title"] = generic.TextStringObject("Wypis poprawiony")
        w.update_container(info)

    v = check_pdf(_update(sealed, retitle), [office])
    assert v.verdict == "altered" and v.details["problem"] == "changed_after_sealing", v
    assert v.details["coverage"] != "ENTIRE_FILE"


def test_incremental_update_with_an_annotation_is_altered(sealed, office):
    def annotate(w):
        page = w.root["/Pages"]["/Kids"][0]
        note = w.add_object(
            generic.DictionaryObject(
                {
                    generic.NameObject("/Type"): generic.NameObject("/Annot"),
                    generic.NameObject("/Subtype"): generic.NameObject("/Text"),
                    generic.NameObject("/Rect"): generic.ArrayObject(
                        [generic.NumberObject(n) for n in (10, 10, 30, 30)]
                    ),
                    generic.NameObject("/Contents"): generic.TextStringObject("dopisek"),
                }
            )
        )
        page_obj = page.get_object()
        annots = page_obj.get("/Annots", generic.ArrayObject())
        annots = generic.ArrayObject([*annots, note])
        page_obj["/Annots"] = annots
        w.update_container(page_obj)

    v = check_pdf(_update(sealed, annotate), [office])
    assert v.verdict == "altered" and v.details["problem"] == "changed_after_sealing", v


def test_appended_bytes_are_not_genuine(sealed, office):
    assert check_pdf(sealed + b"\n% dopisane\n", [office]).verdict != "genuine"


# ---------------------------------------------------------------- unknown
def test_another_offices_seal_is_unknown_to_this_office(pdf, office, other_office):
    sealed = seal_pdf(pdf, other_office, reason="Wypis", location="Piaseczno")
    v = check_pdf(sealed, [office])
    assert v.verdict == "unknown" and v.signed_by == "" and v.office_code is None
    assert v.details["problem"] == "foreign_signature"
    both = check_pdf(sealed, [office, other_office])
    assert both.verdict == "genuine" and both.office_code == other_office.code


def _look_alike(office) -> Seal:
    """A self-made key with a certificate whose subject, issuer and extensions copy the office's."""
    real = seal_for(office).certificate
    key = ec.generate_private_key(ec.SECP256R1())
    builder = (
        x509.CertificateBuilder()
        .subject_name(real.subject)
        .issuer_name(real.issuer)
        .public_key(key.public_key())
        .serial_number(real.serial_number)
        .not_valid_before(real.not_valid_before_utc)
        .not_valid_after(real.not_valid_after_utc)
    )
    for ext in real.extensions:
        builder = builder.add_extension(ext.value, critical=ext.critical)
    cert = builder.sign(key, hashes.SHA256())
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return Seal(office.code, key_pem, cert.public_bytes(serialization.Encoding.PEM))


def test_look_alike_certificate_is_never_genuine(pdf, office, monkeypatch):
    forged = _look_alike(office)
    assert forged.certificate.subject == seal_for(office).certificate.subject
    monkeypatch.setattr(pades, "seal_for", lambda o: forged)
    sealed = seal_pdf(pdf, office, reason="Wypis", location="Piaseczno")
    monkeypatch.undo()
    v = check_pdf(sealed, [office])
    assert v.verdict == "unknown" and v.signed_by == "" and v.office_code is None, v


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"not a pdf at all",
        b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF",
        b"%PDF-1.7\n" + b"\x00" * 1024,
        b"%PDF-1.7\n" + b"[" * 100_000,
    ],
    ids=["empty", "garbage", "unsigned-minimal", "zeros", "deep-nesting"],
)
def test_junk_is_unknown(data, office):
    assert check_pdf(data, [office]).verdict == "unknown"


def test_unsigned_pdf_and_huge_file_are_unknown(pdf, office):
    assert check_pdf(pdf, [office]).details["problem"] == "no_signature"
    huge = b"%PDF-1.7\n" + b"0" * (30 * 1024 * 1024)
    v = check_pdf(huge, [office])
    assert v.verdict == "unknown" and v.details["problem"] == "too_large"


def test_truncated_copy_is_not_genuine(sealed, office):
    assert check_pdf(sealed[: len(sealed) // 2], [office]).verdict != "genuine"
    assert check_pdf(sealed[:-40], [office]).verdict != "genuine"


def test_no_trusted_tsa_means_no_genuine(sealed, office, seal_dir):
    """A copy checked where the TSA's certificate is unknown is never genuine (and is not altered)."""
    folder = seal_dir / tsa.TSA_DIR
    folder.rename(seal_dir / "elsewhere")
    tsa._cache.clear()
    v = check_pdf(sealed, [office])
    assert v.verdict == "unknown" and v.details["problem"] == "timestamp_untrusted", v
    (folder / tsa.TRUSTED).mkdir(parents=True)  # the TSA's certificate installed as a trusted root
    (folder / tsa.TRUSTED / "tsa.pem").write_bytes((seal_dir / "elsewhere" / tsa.CERT).read_bytes())
    assert check_pdf(sealed, [office]).verdict == "genuine"


# ---------------------------------------------------------------- the local TSA
class _Refusal(core.Sequence):
    """A TimeStampResp without a token (asn1crypto's TimeStampResp cannot read one)."""

    _fields = [("status", tsp.PKIStatusInfo)]


def _token_status(token, digest: bytes, roots) -> TimestampSignatureStatus:
    context = ValidationContext(trust_roots=roots, allow_fetching=False)
    return TimestampSignatureStatus(
        **asyncio.run(validate_tst_signed_data(token["content"], context, lambda algo: digest))
    )


def test_local_tsa_token_verifies(office):
    digest = hashlib.sha256(b"dokument").digest()
    token = asyncio.run(tsa.timestamper().async_timestamp(digest, "sha256"))
    root = _asn1(tsa.tsa_certificate())
    status = _token_status(token, digest, [root])
    assert status.intact and status.valid and status.trusted
    assert abs(status.timestamp - datetime.datetime.now(datetime.UTC)) < datetime.timedelta(minutes=1)
    # the imprint binds the token to its digest, and only the TSA's certificate makes it trusted
    assert not _token_status(token, hashlib.sha256(b"inny").digest(), [root]).intact
    office_root = _asn1(seal_for(office).certificate)
    assert not _token_status(token, digest, [office_root]).trusted


def test_local_tsa_certificate_is_a_tsa_certificate(seal_dir):
    cert = tsa.tsa_certificate()
    eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage)
    assert eku.critical and list(eku.value) == [ExtendedKeyUsageOID.TIME_STAMPING]
    assert isinstance(cert.public_key(), ec.EllipticCurvePublicKey)
    assert (seal_dir / tsa.TSA_DIR / tsa.KEY).stat().st_mode & 0o077 == 0


def test_local_tsa_rejects_weak_or_malformed_requests(seal_dir):
    with pytest.raises(TimestampRequestError):
        asyncio.run(tsa.timestamper().async_timestamp(hashlib.sha1(b"x").digest(), "sha1"))  # noqa: S324 - must be refused
    with pytest.raises(TimestampRequestError):
        asyncio.run(tsa.timestamper().async_timestamp(b"\x00" * 20, "sha256"))  # wrong imprint length
    for junk in (b"\x30\x03\x02\x01", b"", b"\x30\x00", hashlib.sha256(b"x").digest()):
        reply = _Refusal.load(tsa.local_tsa().respond_der(junk))
        assert reply["status"]["status"].native == "rejection"
        assert reply["status"]["fail_info"].native == {"bad_data_format"}


def test_local_tsa_key_is_never_replaced(settings, seal_dir):
    cert = tsa.tsa_certificate()
    d = seal_dir / tsa.TSA_DIR
    key_pem = (d / tsa.KEY).read_bytes()
    (d / tsa.CERT).unlink()  # a half pair
    tsa._cache.clear()
    with pytest.raises(tsa.TSAUnavailable):
        tsa.timestamper()
    assert (d / tsa.KEY).read_bytes() == key_pem and not (d / tsa.CERT).exists()
    (d / tsa.CERT).write_bytes(tsa.generate_tsa_pair()[1])  # a certificate of another key
    with pytest.raises(tsa.TSAUnavailable):
        tsa.timestamper()
    (d / tsa.CERT).write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    assert tsa.tsa_certificate() == cert
    for name in (tsa.KEY, tsa.CERT):  # a lost pair: generation is on, yet no new key
        (d / name).unlink()
    tsa._cache.clear()
    with pytest.raises(tsa.TSAUnavailable, match="never generated"):
        tsa.timestamper()
    assert not (d / tsa.KEY).exists()
    assert tsa.trusted_tsa_certificates() == [cert]  # what it timestamped keeps verifying


def test_local_tsa_is_not_generated_in_production(settings, seal_dir):
    settings.GISPORTAL_SEAL_GENERATE = False
    with pytest.raises(tsa.TSAUnavailable, match="GISPORTAL_SEAL_GENERATE is off"):
        tsa.timestamper()
    assert not (seal_dir / tsa.TSA_DIR).exists() and tsa.trusted_tsa_certificates() == []


def test_seal_pdf_needs_a_pdf(office):
    with pytest.raises(PdfReadError):
        seal_pdf(b"not a pdf", office, reason="x", location="y")


# ---------------------------------------------------------------- the local TSA over HTTP
@pytest.fixture
def tsa_url(seal_dir):
    server = tsa.tsa_server("127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/"
    server.shutdown()
    server.server_close()


def test_http_tsa_serves_pyhanko(tsa_url, settings, pdf, office):
    settings.GISPORTAL_TSA_URL = tsa_url
    stamper = tsa.timestamper()
    assert isinstance(stamper, HTTPTimeStamper)
    digest = hashlib.sha256(b"dokument").digest()
    token = asyncio.run(stamper.async_timestamp(digest, "sha256"))
    assert _token_status(token, digest, [_asn1(tsa.tsa_certificate())]).trusted
    v = check_pdf(seal_pdf(pdf, office, reason="Wypis", location="Piaseczno"), [office])
    assert v.verdict == "genuine", v


def _request(url: str, method: str, body: bytes = b"", content_type: str = "") -> tuple[int, str, bytes]:
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        headers = {"Content-Type": content_type} if content_type else {}
        conn.request(method, parts.path, body=body or None, headers=headers)
        r = conn.getresponse()
        return r.status, r.headers["Content-Type"], r.read()
    finally:
        conn.close()


def test_http_tsa_refuses_what_is_no_timestamp_query(tsa_url):
    assert _request(tsa_url, "POST", b"\x30\x00", "text/plain")[0] == 415
    status, ctype, body = _request(tsa_url, "POST", b"junk", tsa.CONTENT_TYPE_QUERY)
    assert status == 200 and ctype == tsa.CONTENT_TYPE_REPLY
    assert _Refusal.load(body)["status"]["status"].native == "rejection"
    assert _request(tsa_url, "POST", b"0" * (tsa.MAX_QUERY_BYTES + 1), tsa.CONTENT_TYPE_QUERY)[0] == 413
    assert _request(tsa_url, "GET")[0] == 405


def test_unreachable_tsa_means_no_seal(settings, pdf, office):
    settings.GISPORTAL_TSA_URL = "http://127.0.0.1:9/"  # discard port: nothing listens
    with pytest.raises(TimestampRequestError):
        seal_pdf(pdf, office, reason="Wypis", location="Piaseczno")


def test_sealing_and_checking_inside_an_event_loop(pdf, office):
    """An async view may call both: pyHanko's own event loop then runs in a worker thread."""

    async def inside() -> pades.Verdict:
        sealed = seal_pdf(pdf, office, reason="Wypis", location="Piaseczno")
        return check_pdf(sealed, [office])

    assert asyncio.run(inside()).verdict == "genuine"
