"""gisportal sources add URL --kind wms|wfs|ogcapi | list | refresh ID | choose ID NAME...: remote OGC sources."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from gisportal.core.errors import GisportalError
from layers.models import RemoteSource
from layers.sources import actions, selectors


class Command(BaseCommand):
    help = "Register remote OGC sources (WMS, WFS, OGC API – Features), list them, read them again."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        add = sub.add_parser("add", help="register a source: its capabilities are read first")
        add.add_argument("url")
        add.add_argument("--kind", required=True, choices=list(RemoteSource.Kind.values))
        add.add_argument("--office", default="", help="code of the office the source is registered for")
        sub.add_parser("list", help="the registered sources")
        refresh = sub.add_parser("refresh", help="read a source's capabilities again")
        refresh.add_argument("id", type=int)
        choose = sub.add_parser("choose", help="choose the layers of a source to use")
        choose.add_argument("id", type=int)
        choose.add_argument("names", nargs="*")

    def handle(self, *args, action: str, **options) -> None:
        try:
            getattr(self, f"_{action}")(**options)
        except GisportalError as e:
            raise CommandError(str(e.message)) from None

    def _layers(self, source: RemoteSource) -> None:
        for layer in selectors.source_layers(source):
            mark = "*" if layer["chosen"] else " "
            crs = " ".join(layer.get("crs") or [])
            self.stdout.write(f"  {mark} {layer['name']}\t{layer.get('title', '')}\t{crs}")

    def _add(self, *, url: str, kind: str, office: str = "", **_options) -> None:
        source = actions.source_add(url, kind, office_code=office)
        self.stdout.write(
            _("Source %(id)s registered: %(title)s (%(kind)s %(version)s, %(n)s layers)")
            % {
                "id": source.pk,
                "title": source.title,
                "kind": source.kind,
                "version": source.capabilities.get("version", ""),
                "n": len(source.capabilities.get("layers", [])),
            }
        )
        self._layers(source)

    def _list(self, **_options) -> None:
        for s in selectors.source_list():
            checked = s.last_checked_at.strftime("%Y-%m-%d %H:%M") if s.last_checked_at else "-"
            self.stdout.write(f"{s.pk}\t{s.kind}\t{s.status}\t{checked}\t{s.url}\t{s.title}")

    def _refresh(self, **options) -> None:
        source = actions.source_refresh(options["id"])
        if source.status == RemoteSource.Status.FAILED:
            raise CommandError(source.last_error)
        self.stdout.write(
            _("Source %(id)s read again: %(n)s layers")
            % {"id": source.pk, "n": len(source.capabilities.get("layers", []))}
        )
        self._layers(source)

    def _choose(self, **options) -> None:
        source = actions.source_choose(options["id"], options["names"])
        self.stdout.write(_("Chosen: %(names)s") % {"names": ", ".join(source.chosen) or "-"})
