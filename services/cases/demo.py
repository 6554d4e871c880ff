"""Demo cases for `make demo`: the demo citizen's requests in the stages a visitor should see: one
letter the office has asked to supplement (answer it on "My cases"; it carries an attachment sealed by the
county office, so the clerk's case page shows a checked signature), one extract waiting for its fee (pay it
on the sandbox gateway). Filed through the same actions as a person's request; idempotent."""

from __future__ import annotations

import uuid

from django.contrib.auth import get_user_model
from django.db import transaction

from services.forms.actions import submission_file
from services.forms.models import ServiceDefinition

from .actions import case_transition
from .models import Case

CITIZEN, GMINA_CLERK = "obywatel", "urzednik.gmina"


def _demo_parcel() -> str | None:
    """A parcel of the county's rural precincts (the EGiB extract goes to the county office)."""
    from layers.models import Parcel

    p = Parcel.objects.current().filter(precinct__unit__unit_id="141804_5").order_by("parcel_id").first()
    return p.parcel_id if p else None


def _signed_attachment() -> list:
    """A letter of the county office sealed with its PAdES seal, as a resident would attach a copy."""
    import weasyprint
    from django.core.files.uploadedfile import SimpleUploadedFile

    from services.documents.pades import seal_pdf
    from services.offices.models import Office

    county = Office.objects.filter(code="sp-piaseczno").first()
    if county is None:
        return []
    html = "<h1>Starostwo Powiatowe w Piasecznie</h1><p>Pismo w sprawie oświetlenia drogi powiatowej.</p>"
    pdf = seal_pdf(weasyprint.HTML(string=html).write_pdf(), county, reason="Pismo", location="Piaseczno")
    return [SimpleUploadedFile("pismo-starostwa.pdf", pdf, content_type="application/pdf")]


def demo_cases_ensure() -> list[Case]:
    """The demo citizen's cases (created once: none are added while the citizen has any)."""
    User = get_user_model()
    citizen = User.objects.filter(username=CITIZEN).first()
    clerk = User.objects.filter(username=GMINA_CLERK).first()
    if citizen is None or clerk is None:
        return []
    existing = list(Case.objects.filter(applicant_user=citizen))
    if existing:
        return existing
    applicant = {
        "applicant_name": citizen.get_full_name() or citizen.username,
        "email": citizen.email,
        "postal_code": "05-500",
        "locality": "Piaseczno",
    }
    with transaction.atomic():
        letter = submission_file(
            ServiceDefinition.objects.get(code="pismo-ogolne", active=True),
            {
                **applicant,
                "subject": "Oświetlenie ulicy",
                "content": "Proszę o informację, kiedy gmina zamontuje oświetlenie przy mojej ulicy.",
            },
            user=citizen,
            files=_signed_attachment(),
            idempotency_key=f"demo-{uuid.uuid4()}",
        )
    case = Case.objects.get(submission=letter)
    case_transition(case.pk, "start", actor=clerk)
    case_transition(
        case.pk,
        "request_supplement",
        actor=clerk,
        due_days=14,
        note="Prosimy o podanie nazwy ulicy i numeru domu, których dotyczy pismo.",
    )
    parcel = _demo_parcel()
    if parcel:
        with transaction.atomic():
            submission_file(
                ServiceDefinition.objects.get(code="wypis-wyrys-egib", active=True),
                {
                    **applicant,
                    "parcels": [parcel],
                    "variant": "wypis_uproszczony",
                    "form": "electronic",
                    "delivery": "portal",
                },
                user=citizen,
                idempotency_key=f"demo-{uuid.uuid4()}",
            )
    return list(Case.objects.filter(applicant_user=citizen))
