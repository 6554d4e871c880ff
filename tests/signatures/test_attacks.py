"""Attacks on the verifier (issue 24, "How it is checked"): XML signature wrapping, content changed after
signing, a swapped certificate, a PDF changed by an incremental update, DOCTYPE/XXE, deep nesting, a zip bomb,
files that are not signatures at all and damaged signed files. Each gets TOTAL_FAILED or INDETERMINATE, or
one of the verifier's 4xx errors; never TOTAL_PASSED, never another exception (a 5xx), in bounded memory."""

from __future__ import annotations

import base64
import random
import resource
import struct
import tracemalloc
import zipfile
from io import BytesIO

import pytest
from asn1crypto import cms
from django.test import Client
from django.utils import translation
from lxml import etree

from services.signatures import trust
from services.signatures.verify import (
    MAX_FILE,
    FileTooLarge,
    NotSigned,
    UnreadableFile,
    UnsupportedFile,
    verify_file,
)
from tests.signatures import pki as P
from tests.signatures.test_verify import check, only, trusted_pki, use_trust, verdict

VERIFIER_ERRORS = (NotSigned, UnsupportedFile, UnreadableFile, FileTooLarge)
MB = 1024 * 1024


@pytest.fixture(scope="module")
def pki(tmp_path_factory) -> P.TestPKI:
    return trusted_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(autouse=True)
def _trust(settings, pki):
    use_trust(settings, pki.dir)
    yield
    trust.forget()


# ---------------------------------------------------------------- XML signature wrapping
WRAPPING = {  # what each variant of pki.wrapped_variants gets, as observed (all not TOTAL_PASSED)
    "object_wrap": ("TOTAL_FAILED", "HASH_FAILURE"),  # the enveloped transform drops the moved original
    "object_wrap_same_id": ("TOTAL_FAILED", "FORMAT_FAILURE"),  # duplicate Id refused
    "hidden_in_forged": ("INDETERMINATE", "SIG_CONSTRAINTS_FAILURE"),  # valid, but over a hidden element
    "forged_sibling_before": ("TOTAL_FAILED", "FORMAT_FAILURE"),  # duplicate Id refused
    "duplicate_id_in_object": ("TOTAL_FAILED", "FORMAT_FAILURE"),  # duplicate Id refused
}


def _signed_documents(pki) -> dict[str, bytes]:
    return {
        "person": P.xades_enveloped(P.sample_xml(), pki.person),
        "person_t": P.xades_enveloped(P.sample_xml(), pki.person, t=True),
        "profil_zaufany": P.pz_xades(P.sample_xml(), pki),
    }


@pytest.mark.parametrize("document", ["person", "person_t", "profil_zaufany"])
def test_every_wrapping_variant_is_refused(pki, document):
    signed = _signed_documents(pki)[document]
    assert verdict(only(check(signed))) == ("TOTAL_PASSED", None)  # the original is fine
    variants = P.wrapped_variants(signed)
    assert set(variants) >= set(WRAPPING)
    for name, forged in variants.items():
        sig = only(check(forged))
        assert sig["indication"] in ("TOTAL_FAILED", "INDETERMINATE"), (name, sig)
        if name in WRAPPING:
            assert verdict(sig) == WRAPPING[name], (name, sig["errors"])


def test_wrapped_document_is_reported_as_only_partly_signed(pki):
    sig = only(check(P.wrapped_variants(P.xades_enveloped(P.sample_xml(), pki.person))["hidden_in_forged"]))
    assert sig["whole_document"] is False


# ---------------------------------------------------------------- content changed after signing
def test_xml_changed_after_signing(pki):
    signed = P.xades_enveloped(P.sample_xml(), pki.person)
    changed = signed.replace("działki".encode(), "działka".encode())
    assert changed != signed
    assert verdict(only(check(changed))) == ("TOTAL_FAILED", "HASH_FAILURE")


def test_enveloped_binary_changed_after_signing(pki):
    signed = P.xades_enveloping(b"%PDF-1.7 binary \x00\xff", pki.company)
    old = base64.b64encode(b"%PDF-1.7 binary \x00\xff")
    assert old in signed
    changed = signed.replace(old, base64.b64encode(b"%PDF-1.7 binarX \x00\xff"))
    assert verdict(only(check(changed))) == ("TOTAL_FAILED", "HASH_FAILURE")


def test_pdf_byte_changed_after_signing(pki):
    signed = P.pades(P.sample_pdf(), pki.person)
    at = signed.index(b"Dzialka 141201")
    changed = signed[:at] + b"Dzialka 999999" + signed[at + 14 :]
    assert len(changed) == len(signed)
    assert verdict(only(check(changed))) == ("TOTAL_FAILED", "HASH_FAILURE")


@pytest.mark.parametrize("signing_certificate_v2", [False, True], ids=["pkcs7", "cades-bes"])
def test_cms_content_changed_after_signing(pki, signing_certificate_v2):
    signed = P.cades(
        b"kwota: 100 zl", pki.person, detached=False, signing_certificate_v2=signing_certificate_v2
    )
    changed = signed.replace(b"kwota: 100 zl", b"kwota: 900 zl")
    assert changed != signed
    assert verdict(only(check(changed))) == ("TOTAL_FAILED", "HASH_FAILURE")


def test_pdf_changed_by_an_incremental_update(pki):
    sig = only(check(P.pades_then_modified(P.sample_pdf(), pki.person)))
    assert verdict(sig) == ("TOTAL_FAILED", "SIG_CONSTRAINTS_FAILURE")
    assert sig["whole_document"] is False
    assert sig["covers"][0]["coverage"] == "ENTIRE_REVISION" and sig["covers"][0]["later_changes"] == "OTHER"


def test_timestamp_taken_from_another_signature(pki):
    """XAdES-T whose SignatureTimeStamp was copied from another signature: it covers another value."""
    one = etree.fromstring(P.xades_enveloped(P.sample_xml(), pki.person, t=True))
    other = etree.fromstring(P.xades_enveloped(P.sample_xml(doc_id="Wniosek-2"), pki.person, t=True))
    path = ".//xades:SignatureTimeStamp/xades:EncapsulatedTimeStamp"
    one.find(path, P.NS).text = other.find(path, P.NS).text
    sig = only(check(P._xml(one)))
    assert sig["timestamp"]["intact"] is False and sig["timestamp"]["trusted"] is False
    assert verdict(sig) == ("TOTAL_FAILED", "HASH_FAILURE")


# ---------------------------------------------------------------- a swapped certificate
def _swap_keyinfo(document: bytes, old: P.Party, new: P.Party) -> bytes:
    root = etree.fromstring(document)
    for el in root.iter(f"{{{P.DS_NS}}}X509Certificate"):
        if base64.b64decode(el.text) == old.cert_der:
            el.text = base64.b64encode(new.cert_der).decode()
            return P._xml(root)
    raise AssertionError("certificate not found")


@pytest.mark.parametrize("other", ["company", "stranger"])
def test_certificate_swapped_in_keyinfo(pki, other):
    forged = _swap_keyinfo(P.xades_enveloped(P.sample_xml(), pki.person), pki.person, getattr(pki, other))
    assert verdict(only(check(forged))) == ("TOTAL_FAILED", "SIG_CRYPTO_FAILURE")


def _swap_cms(p7s: bytes, new: P.Party, old: P.Party) -> bytes:
    info = cms.ContentInfo.load(p7s)
    signed = info["content"]
    others = [c for c in signed["certificates"] if c.chosen.dump() != old.asn1_cert.dump()]
    signed["certificates"] = cms.CertificateSet(
        [cms.CertificateChoices("certificate", new.asn1_cert), *others]
    )
    signed["signer_infos"][0]["sid"] = cms.SignerIdentifier(
        "issuer_and_serial_number",
        {"issuer": new.asn1_cert.issuer, "serial_number": new.asn1_cert.serial_number},
    )
    return info.dump()


@pytest.mark.parametrize(
    ("signing_certificate_v2", "expected"),
    [
        (False, ("TOTAL_FAILED", "SIG_CRYPTO_FAILURE")),
        (True, ("INDETERMINATE", "NO_SIGNING_CERTIFICATE_FOUND")),  # the ESS attribute names another cert
    ],
    ids=["pkcs7", "cades-bes"],
)
def test_certificate_swapped_in_cms(pki, signing_certificate_v2, expected):
    p7s = P.cades(b"dane", pki.person, signing_certificate_v2=signing_certificate_v2)
    sig = only(check(_swap_cms(p7s, pki.company, pki.person), detached=b"dane"))
    assert verdict(sig) == expected


def test_certificate_removed_from_keyinfo(pki):
    root = etree.fromstring(P.xades_enveloped(P.sample_xml(), pki.person))
    key_info = root.find(".//ds:KeyInfo", P.NS)
    key_info.getparent().remove(key_info)
    sig = only(check(P._xml(root)))
    assert sig["indication"] != "TOTAL_PASSED"
    assert verdict(sig) == ("INDETERMINATE", "NO_SIGNING_CERTIFICATE_FOUND")


# ---------------------------------------------------------------- DOCTYPE, XXE, nesting
@pytest.mark.parametrize("variant", ["xxe", "billion_laughs", "external_dtd"])
def test_doctype_is_refused(pki, variant):
    document = P.with_doctype(P.xades_enveloped(P.sample_xml(), pki.person))[variant]
    with translation.override("en"), pytest.raises(UnreadableFile) as e:
        verify_file(document, "wniosek.xml")
    assert "DOCTYPE" in str(e.value) and "root:" not in str(e.value)


@pytest.mark.django_db
@pytest.mark.parametrize("variant", ["xxe", "billion_laughs", "external_dtd"])
def test_doctype_through_the_api_is_a_422_that_leaks_nothing(pki, variant):
    document = P.with_doctype(P.xades_enveloped(P.sample_xml(), pki.person))[variant]
    response = Client(REMOTE_ADDR=f"192.0.2.{10 + len(variant)}").post(
        "/api/signatures/verify", {"file": _upload(document, "wniosek.xml")}
    )
    assert response.status_code == 422
    assert response["Content-Type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == 422 and body["type"] == "about:blank#unreadable_document"
    text = response.content.decode()
    for secret in ("root:", "passwd", "lol", "Wnoszę", "Kowalski", P.PERSON_PESEL, "ENTITY"):
        assert secret not in text, secret


def _upload(data: bytes, name: str):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, data, content_type="application/octet-stream")


def test_deeply_nested_xml_is_unreadable():
    with pytest.raises(UnreadableFile):
        verify_file(P.deeply_nested(), "wniosek.xml")
    with pytest.raises(UnreadableFile):
        verify_file(P.deeply_nested(300), "wniosek.xml")  # over libxml2's 256 levels


def test_deeply_nested_inside_a_signed_document(pki):
    """Nesting within the limit is read; the signature over it is then judged as usual."""
    xml = P.deeply_nested(200).replace(b"</a></Wniosek>", b"</a><Tresc>x</Tresc></Wniosek>")
    assert verdict(only(check(P.xades_enveloped(xml, pki.person)))) == ("TOTAL_PASSED", None)


# ---------------------------------------------------------------- zip bombs
def _bounded(fn):
    """Run fn(); return (its result or exception, peak Python allocation, max RSS growth) in bytes."""
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    tracemalloc.start()
    try:
        try:
            outcome = fn()
        except Exception as e:
            outcome = e
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return outcome, peak, (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss) * 1024


def test_zip_bomb_is_refused_in_bounded_memory():
    bomb = P.zip_bomb()  # > 1 GiB inflated, true sizes in the zip
    with translation.override("en"):
        outcome, peak, rss = _bounded(lambda: verify_file(bomb, "bomba.asice"))
    assert isinstance(outcome, UnreadableFile), outcome
    assert "too large when unpacked" in str(outcome)
    assert peak < 200 * MB and rss < 200 * MB, (peak, rss)


def _lying_bomb(inflated: int = 64 * MB, declared: int = MB) -> bytes:
    """An ASiC-E shaped zip whose data member inflates to `inflated` bytes while its headers (local and
    central) declare `declared`: the ratio checks on the declared sizes pass."""
    out = BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(zipfile.ZipInfo("mimetype"), P.MIMETYPE_ASIC_E.encode(), compress_type=zipfile.ZIP_STORED)
        with z.open("dane.bin", "w") as member:
            chunk = bytes(MB)
            for _ in range(inflated // MB):
                member.write(chunk)
        z.writestr("META-INF/signatures.xml", b"<x/>")
    data = bytearray(out.getvalue())
    info = zipfile.ZipFile(BytesIO(bytes(data))).getinfo("dane.bin")
    assert data[info.header_offset : info.header_offset + 4] == b"PK\x03\x04"
    struct.pack_into("<I", data, info.header_offset + 22, declared)
    eocd = data.rindex(b"PK\x05\x06")
    (at,) = struct.unpack_from("<I", data, eocd + 16)
    while data[at : at + 4] == b"PK\x01\x02":
        name_len, extra_len, comment_len = struct.unpack_from("<HHH", data, at + 28)
        if data[at + 46 : at + 46 + name_len] == b"dane.bin":
            struct.pack_into("<I", data, at + 24, declared)
        at += 46 + name_len + extra_len + comment_len
    assert zipfile.ZipFile(BytesIO(bytes(data))).getinfo("dane.bin").file_size == declared
    return bytes(data)


def test_zip_bomb_with_lying_sizes_is_refused_in_bounded_memory():
    bomb = _lying_bomb()
    outcome, peak, rss = _bounded(lambda: verify_file(bomb, "bomba.asice"))
    assert isinstance(outcome, UnreadableFile), outcome
    assert peak < 200 * MB and rss < 200 * MB, (peak, rss)


# ---------------------------------------------------------------- not signatures, damaged files
def test_random_bytes_are_unsupported():
    with pytest.raises(UnsupportedFile):
        verify_file(random.Random(1).randbytes(4096), "plik.bin")


def test_an_executable_is_unsupported():
    exe = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 48 + b"This program cannot be run"
    with pytest.raises(UnsupportedFile):
        verify_file(exe, "wniosek.pdf.exe")


def test_an_empty_file_is_unreadable():
    with pytest.raises(UnreadableFile):
        verify_file(b"", "pusty.xml")


def test_a_file_over_20_mb_is_too_large(pki):
    with pytest.raises(FileTooLarge):
        verify_file(b"%PDF-1.7\n" + bytes(MAX_FILE), "duzy.pdf")
    with pytest.raises(FileTooLarge):  # the detached file counts too
        verify_file(P.cades(b"x", pki.person), "x.p7s", detached=bytes(MAX_FILE + 1))


def test_a_pdf_without_a_signature_is_not_signed():
    with pytest.raises(NotSigned):
        verify_file(P.sample_pdf(), "wniosek.pdf")


def test_xml_without_a_signature_is_not_signed():
    with pytest.raises(NotSigned):
        verify_file(P.sample_xml(), "wniosek.xml")


def test_asic_without_a_signature_is_not_signed():
    with pytest.raises(NotSigned):
        verify_file(P._zip(P.MIMETYPE_ASIC_E, {"wniosek.xml": P.sample_xml()}), "wniosek.asice")


@pytest.mark.parametrize(
    "data",
    [
        b"%PDF-1.7\n not really a pdf",
        b"<Wniosek><a></Wniosek>",
        b"0\x82\x01\x00" + bytes(range(256)),
        b"-----BEGIN PKCS7-----\nAAAA\n-----END PKCS7-----\n",
        P._zip("application/zip", {"a.txt": b"x"}),
        b"PK\x03\x04 not a zip at all",
    ],
    ids=["pdf", "xml", "der", "pem", "zip-not-asic", "zip-broken"],
)
def test_damaged_files_are_unreadable(data):
    with pytest.raises(UnreadableFile):
        verify_file(data, "plik")


def _mutations(data: bytes, rng: random.Random, flips: int = 8) -> list[bytes]:
    out = [data[: len(data) * k // 5] for k in (1, 2, 3, 4)]
    for _ in range(flips):
        i = rng.randrange(len(data))
        out.append(data[:i] + bytes([data[i] ^ (1 << rng.randrange(8))]) + data[i + 1 :])
    return out


def test_damaged_signed_files_never_break_the_verifier(pki):
    """Truncated and bit-flipped signed files: a report or one of the verifier's own errors, nothing else."""
    rng = random.Random(24)
    files = {"wniosek.xml": P.sample_xml(), "mapa.pdf": P.sample_pdf()}
    documents = [
        P.xades_enveloped(P.sample_xml(), pki.person, t=True),
        P.pz_xades(P.sample_xml(), pki),
        P.pades(P.sample_pdf(), pki.company, timestamp=True),
        P.cades(b"dane wniosku", pki.person, detached=False, signing_certificate_v2=True),
        P.asic_e_xades(files, pki.person),
        P.asic_e_cades(files, pki.person),
    ]
    seen = set()
    for document in documents:
        for damaged in _mutations(document, rng):
            try:
                report = check(damaged)
            except VERIFIER_ERRORS as e:
                seen.add(e.__class__.__name__)
                continue
            seen.add(report["indication"])
    assert "TOTAL_FAILED" in seen and "UnreadableFile" in seen, seen


def test_unsigned_bytes_in_a_pdf_signature_do_not_make_it_pass(pki):
    """Bytes flipped inside the signed byte ranges of a PAdES: never TOTAL_PASSED."""
    signed = P.pades(P.sample_pdf(), pki.person)
    sig = only(check(signed))
    start, length, second, second_length = sig["covers"][0]["byte_range"]
    rng = random.Random(7)
    for _ in range(6):
        i = rng.choice(
            [rng.randrange(start + 20, start + length), rng.randrange(second, second + second_length)]
        )
        damaged = signed[:i] + bytes([signed[i] ^ 0x01]) + signed[i + 1 :]
        try:
            report = check(damaged)
        except VERIFIER_ERRORS:
            continue
        assert report["indication"] != "TOTAL_PASSED", i


def test_environment_is_not_read_by_xml(pki, tmp_path):
    """An external entity pointing at a real file is never resolved (the file's text never shows)."""
    secret = tmp_path / "sekret.txt"
    secret.write_text("TAJNE-DANE-123")
    xml = P.xades_enveloped(P.sample_xml(), pki.person)
    document = xml.replace(
        b"<?xml version='1.0' encoding='UTF-8'?>",
        b"<?xml version='1.0' encoding='UTF-8'?>"
        + f'<!DOCTYPE Wniosek [<!ENTITY s SYSTEM "file://{secret}">]>'.encode(),
    )
    assert b"<!DOCTYPE" in document
    with pytest.raises(UnreadableFile) as e:
        verify_file(document.replace(b"<Data>", b"<Data>&s;"), "x.xml")
    assert "TAJNE" not in str(e.value)


def test_random_bytes_after_a_tag_are_unreadable():
    with pytest.raises(UnreadableFile):
        verify_file(b"<" + random.Random(3).randbytes(512), "x.xml")
