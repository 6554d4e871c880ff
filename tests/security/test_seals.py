"""Office seals never fail open: no generation unless asked for (and then only for an office that
never had a seal), no silent replacement of a key, a start that refuses without seals, rotation that
keeps old receipts verifying, and tampered or forged receipts that /verify/ calls not genuine."""

from __future__ import annotations

import datetime
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client
from django.utils import timezone

from services.offices import seals
from services.offices.models import Office
from services.offices.seals import Seal, SealUnavailable, seal_for, seal_problem, seal_rotate
from services.receipts import upp as receipt_xml
from services.receipts.actions import receipt_issue, verification_code_new
from services.receipts.checks import office_seals
from services.receipts.models import Receipt
from services.receipts.selectors import receipt_genuine
from services.receipts.upp import embedded_certificates

pytestmark = pytest.mark.django_db
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def seal_dir(settings, tmp_path):
    """An empty seal folder of this test; generation off as in production unless a test turns it on."""
    settings.GISPORTAL_SEAL_DIR = tmp_path / "seals"
    settings.GISPORTAL_SEAL_GENERATE = False
    seals._cache.clear()
    yield settings.GISPORTAL_SEAL_DIR
    seals._cache.clear()


@pytest.fixture
def office():
    return Office.objects.get(code="um-piaseczno")


def _issue(office, name: str = "Jan Kowalski") -> Receipt:
    doc = uuid.uuid4().hex
    return receipt_issue(
        document_id=doc,
        document_sha256=doc + doc,
        office=office,
        sender_name=name,
        sender_identifier="jan",
        received_at=timezone.now(),
        service="wypis-wyrys-mpzp",
        parcels=("141804_4.0001.1",),
    )


def _stored(office, seal: Seal, *, edit=None) -> Receipt:
    """A receipt sealed with `seal` and stored as it is (optionally edited after sealing), the way a
    forger or a broken disk would leave it."""
    rid, code, doc = uuid.uuid4(), verification_code_new(), uuid.uuid4().hex
    now = timezone.now()
    data = receipt_xml.ReceiptData(
        receipt_id=str(rid),
        verification_code=code,
        sender_name="Jan Kowalski",
        sender_identifier="jan",
        addressee_name=office.name,
        addressee_id=office.jurisdiction_teryt,
        received_at=now.isoformat(),
        issued_at=now.isoformat(),
        document_id=doc,
        document_sha256=doc + doc,
        service="wypis-wyrys-mpzp",
    )
    xml = receipt_xml.sign(receipt_xml.build(data), seal)
    if edit is not None:
        xml = edit(xml)
    return Receipt.objects.create(
        id=rid,
        verification_code=code,
        document_id=doc,
        document_sha256=doc + doc,
        office=office,
        sender_name="Jan Kowalski",
        sender_identifier="jan",
        received_at=now,
        issued_at=now,
        summary={"service": "wypis-wyrys-mpzp"},
        xml=xml,
    )


def _self_signed(subject: x509.Name) -> tuple[bytes, bytes]:
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    return (
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ),
        cert.public_bytes(serialization.Encoding.PEM),
    )


def _verify_page(code: str) -> str:
    r = Client().get(f"/verify/{code}", HTTP_ACCEPT_LANGUAGE="en")
    assert r.status_code == 200
    return r.content.decode()


def _says_genuine(html: str) -> bool:
    if "The confirmation is genuine" in html:
        assert "does not verify" not in html
        return True
    assert "The confirmation&#x27;s seal does not verify" in html or "seal does not verify" in html
    return False


# ------------------------------------------------------------------ generation off / half pairs
def test_generation_is_off_by_default_in_the_settings_module():
    env = {k: v for k, v in os.environ.items() if k != "GISPORTAL_SEAL_GENERATE"}
    out = subprocess.run(
        [sys.executable, "-c", "from gisportal import settings; print(settings.GISPORTAL_SEAL_GENERATE)"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.stdout.strip() == "False", out.stderr[-2000:]


def test_generation_off_is_a_clear_error_and_writes_no_key(seal_dir, office):
    with pytest.raises(SealUnavailable) as e:
        seal_for(office)
    assert "seal-rotate" in e.value.detail and "GISPORTAL_SEAL_GENERATE" in e.value.detail
    assert str(seal_dir) not in str(e.value.message)  # the user's message names no path
    assert (
        not (seal_dir / office.code / "key.pem").exists()
        and not (seal_dir / office.code / "cert.pem").exists()
    )
    with pytest.raises(SealUnavailable):
        _issue(office)
    assert not Receipt.objects.exists()


def test_generation_on_makes_one_seal_for_a_new_office_and_archives_it(seal_dir, office, settings):
    settings.GISPORTAL_SEAL_GENERATE = True
    seal = seal_for(office)
    d = seal_dir / office.code
    assert (d / "key.pem").stat().st_mode & 0o077 == 0
    assert [c for c in seals.archived_certificates(office.code)] == [seal.certificate]
    seals._cache.clear()
    assert seal_for(office).key_pem == seal.key_pem  # loaded again, not regenerated


@pytest.mark.parametrize("keep", ["key.pem", "cert.pem"])
def test_a_half_pair_is_an_error_and_nothing_is_replaced(seal_dir, office, settings, keep):
    settings.GISPORTAL_SEAL_GENERATE = True
    seal_for(office)
    d = seal_dir / office.code
    gone = {"key.pem": "cert.pem", "cert.pem": "key.pem"}[keep]
    kept_bytes = (d / keep).read_bytes()
    (d / gone).unlink()
    seals._cache.clear()
    with pytest.raises(SealUnavailable) as e:
        seal_for(office)
    assert gone in e.value.detail and "never regenerated" in e.value.detail
    assert (d / keep).read_bytes() == kept_bytes and not (d / gone).exists()
    assert seal_problem(office) and gone in seal_problem(office)


def test_a_lost_pair_of_an_office_that_had_a_seal_is_an_error_not_a_new_key(seal_dir, office, settings):
    settings.GISPORTAL_SEAL_GENERATE = True
    first = seal_for(office)
    d = seal_dir / office.code
    (d / "key.pem").unlink()
    (d / "cert.pem").unlink()
    seals._cache.clear()
    with pytest.raises(SealUnavailable) as e:
        seal_for(office)
    assert "archive" in e.value.detail and "never generated silently" in e.value.detail
    assert not (d / "key.pem").exists()
    assert seals.archived_certificates(office.code) == [first.certificate]


def test_a_key_of_another_certificate_is_an_error(seal_dir, office, settings):
    settings.GISPORTAL_SEAL_GENERATE = True
    seal_for(office)
    d = seal_dir / office.code
    other_key, _cert = _self_signed(x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, "x")]))
    (d / "key.pem").write_bytes(other_key)
    seals._cache.clear()
    with pytest.raises(SealUnavailable) as e:
        seal_for(office)
    assert "does not belong" in e.value.detail


def test_the_system_check_reports_each_office_without_a_seal(seal_dir, office, settings):
    errors = office_seals()
    assert {e.id for e in errors} == {"receipts.E001"}
    assert office.code in {e.obj for e in errors}
    settings.GISPORTAL_SEAL_GENERATE = True
    assert office_seals() == []  # a new install with generation on: seals come on first use
    assert not (seal_dir / office.code).exists()  # the check only reads


# ------------------------------------------------------------------ the process refuses to start
def _env(seal_dir: Path, generate: str) -> dict:
    s = connection.settings_dict
    auth = s["USER"] + (f":{s['PASSWORD']}" if s["PASSWORD"] else "")
    env = {
        **os.environ,
        "DATABASE_URL": f"postgis://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}",
        "GISPORTAL_SEAL_DIR": str(seal_dir),
        "GISPORTAL_SEAL_GENERATE": generate,
        "DJANGO_SETTINGS_MODULE": "gisportal.settings",
    }
    return env


def test_gisportal_check_fails_without_seals_and_generation(seal_dir, office):
    seal_dir.mkdir(parents=True)
    other = subprocess.run(
        [sys.executable, "-m", "gisportal.cli", "check"],
        cwd=REPO,
        env=_env(seal_dir, "0"),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert (
        other.returncode == 0
    )  # other commands (migrate, import, seal-rotate) run before seals are installed
    r = subprocess.run(
        [sys.executable, "-m", "gisportal.cli", "check", "--deploy", "--tag", "receipts"],
        cwd=REPO,
        env=_env(seal_dir, "0"),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert r.returncode != 0
    assert "receipts.E001" in r.stderr and office.code in r.stderr and "seal-rotate" in r.stderr
    assert list(seal_dir.iterdir()) == []  # nothing generated
    ok = subprocess.run(
        [sys.executable, "-m", "gisportal.cli", "check", "--deploy", "--tag", "receipts"],
        cwd=REPO,
        env=_env(seal_dir, "1"),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert ok.returncode == 0 and "receipts.E001" not in ok.stderr, ok.stderr[-3000:]


def test_the_wsgi_application_refuses_to_load_without_seals(seal_dir, office):
    """What gunicorn imports: without seals the import fails, so no worker boots."""
    seal_dir.mkdir(parents=True)
    r = subprocess.run(
        [sys.executable, "-c", "import gisportal.wsgi"],
        cwd=REPO,
        env=_env(seal_dir, "0"),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert r.returncode != 0
    assert "refuses to start" in r.stderr and "receipts.E001" in r.stderr and office.code in r.stderr


def test_gunicorn_stops_without_seals(seal_dir, office):
    seal_dir.mkdir(parents=True)
    gunicorn = Path(sys.executable).parent / "gunicorn"
    proc = subprocess.Popen(
        [
            str(gunicorn),
            "gisportal.wsgi:application",
            "--bind",
            "127.0.0.1:0",
            "--workers",
            "1",
            "--control-socket",
            str(seal_dir.parent / "gunicorn.ctl"),
        ],
        cwd=REPO,
        env=_env(seal_dir, "0"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        _out, err = proc.communicate(timeout=90)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        pytest.fail("gunicorn kept serving without office seals")
    assert proc.returncode != 0
    assert "receipts.E001" in err


# ------------------------------------------------------------------ rotation
def test_rotation_keeps_old_receipts_verifying_and_seals_new_ones_with_the_new_key(
    seal_dir, office, settings, tmp_path
):
    settings.GISPORTAL_SEAL_GENERATE = True
    old = _issue(office, "Przed Rotacją")
    old_cert = seal_for(office).certificate
    new_key, new_cert = _self_signed(old_cert.subject)
    (tmp_path / "k.pem").write_bytes(new_key)
    (tmp_path / "c.pem").write_bytes(new_cert)
    settings.GISPORTAL_SEAL_GENERATE = False  # production: rotation needs no generation
    call_command(
        "seal_rotate",
        office.code,
        "--key",
        str(tmp_path / "k.pem"),
        "--cert",
        str(tmp_path / "c.pem"),
        verbosity=0,
    )
    assert seal_for(office).cert_pem == new_cert
    new = _issue(office, "Po Rotacji")
    assert embedded_certificates(bytes(old.xml)) == [old_cert]
    assert embedded_certificates(bytes(new.xml)) == [x509.load_pem_x509_certificate(new_cert)]
    assert receipt_genuine(old) and receipt_genuine(new)
    assert _says_genuine(_verify_page(old.verification_code)) and _says_genuine(
        _verify_page(new.verification_code)
    )
    assert {c.serial_number for c in seals.archived_certificates(office.code)} == {
        old_cert.serial_number,
        x509.load_pem_x509_certificate(new_cert).serial_number,
    }


def test_rotation_seen_by_a_running_process_without_restart(seal_dir, office, settings):
    settings.GISPORTAL_SEAL_GENERATE = True
    before = seal_for(office)
    seal_rotate(office, generate=True)
    after = seal_for(office)
    assert after.cert_pem != before.cert_pem
    assert receipt_genuine(_issue(office))


def test_rotation_refuses_bad_pairs_and_changes_nothing(seal_dir, office, settings, tmp_path):
    settings.GISPORTAL_SEAL_GENERATE = True
    current = seal_for(office)
    key_a, _cert_a = _self_signed(current.certificate.subject)
    _key_b, cert_b = _self_signed(current.certificate.subject)
    (tmp_path / "k.pem").write_bytes(key_a)
    (tmp_path / "c.pem").write_bytes(cert_b)
    with pytest.raises(CommandError, match="does not belong"):
        call_command(
            "seal_rotate", office.code, "--key", str(tmp_path / "k.pem"), "--cert", str(tmp_path / "c.pem")
        )
    with pytest.raises(CommandError):
        call_command("seal_rotate", office.code, "--key", str(tmp_path / "k.pem"))
    with pytest.raises(CommandError, match="no office"):
        call_command("seal_rotate", "nie-ma-takiego", "--generate")
    (tmp_path / "k.pem").write_bytes(current.key_pem)
    (tmp_path / "c.pem").write_bytes(current.cert_pem)
    with pytest.raises(CommandError, match="already"):
        call_command(
            "seal_rotate", office.code, "--key", str(tmp_path / "k.pem"), "--cert", str(tmp_path / "c.pem")
        )
    seals._cache.clear()
    assert seal_for(office) == current


def test_rotation_installs_the_first_seal_of_a_production_office(seal_dir, office):
    """Generation off, nothing installed: `seal-rotate --key --cert` is how production starts."""
    assert seal_problem(office)
    seal_rotate(office, generate=True)
    assert seal_problem(office) is None and receipt_genuine(_issue(office))


# ------------------------------------------------------------------ tampered and forged receipts
def test_a_receipt_sealed_with_the_office_seal_is_genuine(seal_dir, office, settings):
    """The control of the tests below: the same construction without tampering verifies."""
    settings.GISPORTAL_SEAL_GENERATE = True
    r = _stored(office, seal_for(office))
    assert receipt_genuine(r) and _says_genuine(_verify_page(r.verification_code))


def test_a_tampered_receipt_is_not_genuine(seal_dir, office, settings):
    settings.GISPORTAL_SEAL_GENERATE = True
    r = _stored(office, seal_for(office), edit=lambda xml: xml.replace(b"Jan Kowalski", b"Jan Kowalsky", 1))
    assert b"Jan Kowalsky" in bytes(r.xml)
    assert receipt_genuine(r) is False
    assert not _says_genuine(_verify_page(r.verification_code))


def test_a_receipt_forged_with_another_key_of_the_same_subject_is_not_genuine(seal_dir, office, settings):
    settings.GISPORTAL_SEAL_GENERATE = True
    real = seal_for(office)
    key, cert = _self_signed(real.certificate.subject)
    assert x509.load_pem_x509_certificate(cert).subject == real.certificate.subject
    r = _stored(office, Seal(office.code, key, cert))
    assert receipt_genuine(r) is False
    assert not _says_genuine(_verify_page(r.verification_code))


def test_a_forgery_that_embeds_the_real_certificate_is_not_genuine(seal_dir, office, settings):
    settings.GISPORTAL_SEAL_GENERATE = True
    real = seal_for(office)
    key, _cert = _self_signed(real.certificate.subject)
    r = _stored(
        office, Seal(office.code, key, real.cert_pem)
    )  # signed by another key, the office's certificate shown
    assert embedded_certificates(bytes(r.xml)) == [real.certificate]
    assert receipt_genuine(r) is False
    assert not _says_genuine(_verify_page(r.verification_code))


def test_verification_never_generates_a_seal(seal_dir, office, settings):
    settings.GISPORTAL_SEAL_GENERATE = True
    key, cert = _self_signed(x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, office.name)]))
    r = _stored(office, Seal(office.code, key, cert))
    assert receipt_genuine(r) is False
    assert not (seal_dir / office.code).exists()
