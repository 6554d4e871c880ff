"""`gisportal seal-rotate <office> --key key.pem --cert cert.pem | --generate`: install a new seal
for an office (also the first one). The certificate in use stays in the archive, so receipts
sealed before keep verifying; new receipts are sealed with the new key. `--status` only reports."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from gisportal.core.errors import ConfigurationError
from services.offices.models import Office

from ...seals import archived_certificates, seal_dir, seal_problem, seal_rotate


class Command(BaseCommand):
    help = (
        "Install a new seal (key and certificate) for an office, keeping the old certificate so that old "
        "receipts keep verifying. --generate makes a self-signed seal (demo, tests)."
    )
    requires_system_checks = []  # it repairs exactly what the seal check (receipts.E001) reports

    def add_arguments(self, parser):
        parser.add_argument("office", help="office code, e.g. um-piaseczno")
        parser.add_argument("--key", type=Path, help="PEM private key (unencrypted), EC or RSA")
        parser.add_argument("--cert", type=Path, help="PEM certificate of that key")
        parser.add_argument(
            "--generate", action="store_true", help="generate a self-signed EC P-256 seal instead"
        )
        parser.add_argument("--status", action="store_true", help="only show the seal in use and the archive")

    def handle(self, *args, office, key=None, cert=None, generate=False, status=False, **options):
        obj = Office.objects.filter(code=office).first()
        if obj is None:
            raise CommandError(
                f"There is no office {office!r} (codes: {', '.join(Office.objects.values_list('code', flat=True))})."
            )
        if status:
            self._status(obj)
            return
        if generate and (key or cert):
            raise CommandError("Give --key and --cert, or --generate, not both.")
        if not generate and not (key and cert):
            raise CommandError("Give both --key and --cert (or --generate).")
        key_pem = cert_pem = None
        if not generate:
            try:
                key_pem, cert_pem = key.read_bytes(), cert.read_bytes()
            except OSError as e:
                raise CommandError(f"Cannot read {e.filename}: {e.strerror}.") from None
        try:
            seal = seal_rotate(obj, key_pem=key_pem, cert_pem=cert_pem, generate=generate)
        except ConfigurationError as e:
            raise CommandError(str(e.message)) from None
        c = seal.certificate
        self.stdout.write(
            f"Office {obj.code} now seals with certificate serial {c.serial_number:x} "
            f"({c.subject.rfc4514_string()}), valid until {c.not_valid_after_utc:%Y-%m-%d}."
        )
        self.stdout.write(
            f"Certificates kept for verifying older receipts: {len(archived_certificates(obj.code))} "
            f"in {seal_dir(obj.code) / 'archive'}."
        )

    def _status(self, office) -> None:
        problem = seal_problem(office)
        d = seal_dir(office.code)
        if problem is None and not (d / "cert.pem").exists():
            problem = "no seal yet; one will be generated on first use (GISPORTAL_SEAL_GENERATE is on)."
        self.stdout.write(f"Office {office.code}: {problem or 'the seal can be used.'}")
        for c in archived_certificates(office.code):
            self.stdout.write(
                f"  {c.serial_number:x}  {c.not_valid_before_utc:%Y-%m-%d} – {c.not_valid_after_utc:%Y-%m-%d}  "
                f"{c.subject.rfc4514_string()}"
            )
