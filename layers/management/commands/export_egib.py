"""gisportal export-egib FILE [--srid S] [--only-current]: the registry as EGiB GML 2021.

The file holds personal data (owners, PESEL, KW numbers): for authorised exchange only.
"""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from gisportal.core.errors import GisportalError
from layers.exporting.egib import SRIDS, export_egib


class Command(BaseCommand):
    help = (
        "Export the registry (units, precincts, JRG, parcels, buildings, contours, addresses, owners and "
        "shares) to an EGiB GML 2021 file. The file contains personal data: authorised exchange only."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="output file (written to FILE.part, then renamed)")
        parser.add_argument(
            "--srid",
            type=int,
            default=2180,
            help=f"EPSG code of the coordinates: {', '.join(str(s) for s in SRIDS)} (default 2180)",
        )
        parser.add_argument(
            "--only-current", action="store_true", help="leave out retired objects (koniecObiekt set)"
        )
        parser.add_argument(
            "--no-personal-data",
            action="store_true",
            help="leave out owners, shares and KW numbers (a file that may be shared more widely)",
        )
        parser.add_argument(
            "--legal-basis",
            default="",
            help="legal basis for exporting personal data (required unless --no-personal-data); logged",
        )

    def handle(
        self,
        *args,
        file: str,
        srid: int,
        only_current: bool,
        no_personal_data: bool = False,
        legal_basis: str = "",
        **options,
    ) -> None:
        if srid not in SRIDS:
            raise CommandError(
                _("Unsupported --srid %(srid)s: use one of %(allowed)s.")
                % {"srid": srid, "allowed": ", ".join(str(s) for s in SRIDS)}
            )
        path = Path(file)
        if path.is_dir():
            raise CommandError(_("%(file)s is a directory; give a file name.") % {"file": file})
        if not path.parent.is_dir():
            raise CommandError(_("The directory %(dir)s does not exist.") % {"dir": path.parent})
        verbose = options["verbosity"] >= 1
        if not no_personal_data:
            if not legal_basis.strip():
                raise CommandError(
                    _("The export holds personal data: give --legal-basis, or use --no-personal-data.")
                )
            from layers.selectors import access_log_append

            # logged before anything is read (DOMAIN.md §11)
            access_log_append(
                None, legal_basis=legal_basis, object_kind="egib_export", object_ids=[path.name]
            )
        try:
            counts = export_egib(
                path,
                srid=srid,
                only_current=only_current,
                personal_data=not no_personal_data,
                progress=(lambda m: self.stdout.write(f"  {m}")) if options["verbosity"] >= 2 else None,
            )
        except GisportalError as e:
            raise CommandError(e.message) from None
        except OSError as e:
            raise CommandError(
                _("Cannot write %(file)s: %(error)s") % {"file": file, "error": e.strerror or e}
            ) from None
        if verbose:
            self.stdout.write(self.style.SUCCESS(f"Wyeksportowano / exported: {path} (EPSG:{srid})"))
            for name, count in counts.items():
                self.stdout.write(f"  {name}: {count}")
            if not no_personal_data:
                self.stdout.write(
                    self.style.WARNING("Plik zawiera dane osobowe / the file contains personal data.")
                )
