"""Make docs/wyrys-przyklad.png, the README's picture of a map extract: a 1:1000 A4 extract of a demo
parcel, built, sealed and rendered from its PDF page (pypdfium2) at 110 dpi.

Usage (on the demo database): .venv/bin/gisportal shell -c "exec(open('docs/make_extract_picture.py').read())"
"""

import uuid
from pathlib import Path

import pypdfium2

from layers.models import Parcel
from services.documents import actions
from services.documents.models import DocumentJob, IssuedDocument
from services.offices.models import Office

actions._enqueue = lambda job_id: None  # run here, not in a worker
parcel = (
    Parcel.objects.current().filter(precinct__unit__unit_id="141804_5").order_by("parcel_id")[40].parcel_id
)
job = actions.job_create(
    key=f"readme:{uuid.uuid4()}",
    kind="egib_wyrys",
    office=Office.objects.get(code="sp-piaseczno"),
    params={"parcels": [parcel], "scale": 1000},
)
assert actions.job_run(job.pk) == "issued", DocumentJob.objects.get(pk=job.pk).error
doc = IssuedDocument.objects.get(pk=DocumentJob.objects.get(pk=job.pk).document_id)
page = pypdfium2.PdfDocument(bytes(doc.pdf))[0]
out = Path("docs/wyrys-przyklad.png")
page.render(scale=110 / 72).to_pil().save(out, optimize=True)
print(out, doc.number, doc.verification_code)
