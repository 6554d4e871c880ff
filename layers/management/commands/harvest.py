"""gisportal harvest SOURCE [--layer NAME] [--as LOCAL]: copy a remote WFS type or OGC API collection into a
local layer (new, changed and retired features by identifier), here and now; prints the run's report."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from gisportal.core.errors import GisportalError
from layers.models import HarvestRun, RemoteSource
from layers.sources import harvest


class Command(BaseCommand):
    help = (
        "Harvest a registered WFS or OGC API source into local layers: the layer named by --layer (the remote "
        "feature type or collection), or every layer chosen for the source."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("source", help="the source's id (gisportal sources list) or its address")
        parser.add_argument("--layer", default="", help="the remote feature type or collection")
        parser.add_argument(
            "--as", dest="local", default="", help="the local layer's name (first harvest only)"
        )
        parser.add_argument(
            "--every", type=int, default=None, help="harvest again every N hours (0: on demand)"
        )
        parser.add_argument("--id-property", default=None, help="the property that identifies a feature")

    def handle(self, *args, source: str, layer: str, local: str, every, id_property, **options) -> None:
        found = (
            RemoteSource.objects.filter(pk=int(source)).first()
            if source.isdigit()
            else RemoteSource.objects.filter(url=source.strip()).first()
        )
        if found is None:
            raise CommandError(_("There is no such source."))
        names = [layer] if layer else list(found.chosen or [])
        if not names:
            raise CommandError(_("Name a layer (--layer) or choose the source's layers first."))
        failed = False
        for name in names:
            try:
                target = harvest.layer_ensure(found.pk, name, name=local if layer else "")
            except GisportalError as e:
                raise CommandError(str(e.message)) from None
            changes = {}
            if every is not None:
                changes["interval_hours"] = max(0, every)
            if id_property is not None:
                changes["id_property"] = id_property.strip()[:100]
            if changes:
                type(target).objects.filter(pk=target.pk).update(**changes)
            run = harvest.harvest_now(target.pk)
            self.stdout.write(
                f"{target.name} ← {name}: {run.get_status_display()}; "
                + _(
                    "read %(read)s in %(pages)s pages, new %(new)s, changed %(changed)s, retired %(retired)s, "
                    "unchanged %(unchanged)s"
                )
                % {
                    "read": run.read,
                    "pages": run.pages,
                    "new": run.new,
                    "changed": run.changed,
                    "retired": run.retired,
                    "unchanged": run.unchanged,
                }
            )
            for w in (run.report or {}).get("warnings", [])[:10]:
                self.stdout.write(f"  ! {w}")
            if run.status == HarvestRun.Status.FAILED:
                self.stderr.write(f"  {run.error}")
                failed = True
        if failed:
            raise CommandError(_("A harvest failed; the layer was left unchanged."))
