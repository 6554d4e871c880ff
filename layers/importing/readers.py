"""Choose the reader for a file: EGiB GML, or an OGR vector format with a field mapping."""

from __future__ import annotations

from pathlib import Path

from django.utils.translation import gettext as _

from .base import ImportFailed
from .egib import EgibReader
from .sniff import Sniffed, sniff


class EgibFile:
    def __init__(self, path: Path):
        with open(path, "rb") as f:
            head = f.read(1024).lstrip(b"\xef\xbb\xbf \t\r\n")
        if not head.startswith(b"<"):
            raise ImportFailed(_("The file is not XML, so it cannot be an EGiB GML export."))
        self.path = path
        self.source = None  # a PartSource while reading one part
        self.reader = EgibReader(str(path))

    def __iter__(self):
        yield from self.reader

    def read_part(self, part, prefix: bytes, footer: bytes):
        """Read only the first part of a file cut for several processes (importing/parallel.py)."""
        from .parallel import PartSource

        self.source = PartSource(self.path, part, prefix, footer)
        self.reader = EgibReader(self.source)
        self.reader.require_features = False

    def close(self) -> None:
        if self.source is not None:
            self.source.close()

    @property
    def notes(self) -> list[str]:
        return [
            _("%(n)s objects of type %(t)s are not part of the registry model; skipped.")
            % {"n": n, "t": name}
            for name, n in sorted(self.reader.skipped.items())
        ]

    @property
    def crs_text(self) -> str:
        return self.reader.geometry.srs_text


def open_reader(path: Path, *, fmt: str = "auto", options: dict, sniffed: Sniffed | None = None):
    """The reader of a file whose format was read from its bytes (`sniff`, unless the caller already did)."""
    sniffed = sniffed or sniff(path)
    if fmt not in ("auto", "", None) and fmt != sniffed.fmt:
        raise ImportFailed(
            _("The file holds %(found)s, not %(asked)s.") % {"found": sniffed.fmt, "asked": str(fmt)[:20]}
        )
    if sniffed.fmt == "egib":
        return EgibFile(path)
    from .ogr import OgrReader

    return OgrReader(path, sniffed=sniffed, options=options)
