"""Which documents a request ends in, as data: the e-service (and the variant the applicant chose) →
the kinds of documents and what each is made of. Pure; `actions.case_documents_prepare` creates the jobs
when the case is ready to issue (paid, or nothing to pay)."""

from __future__ import annotations

from services.forms.grounds import egib_legal_basis  # the ground chosen in the form, in words

# wypis-wyrys-egib variants (services/forms/definitions/wypis-wyrys-egib.json) → kinds
EGIB = {
    "wypis_uproszczony": ("egib_wypis",),
    "wypis_bez_danych": ("egib_wypis",),
    "wypis_z_danymi": ("egib_wypis_full",),
    "wyrys": ("egib_wyrys",),
    "wypis_wyrys": ("egib_wyrys", "egib_wypis_full"),
}


def documents_for(service_code: str, data: dict, parcels: list[str]) -> list[tuple[str, dict]]:
    """(kind, params) of each document a request of this service ends in; [] for services whose answer is
    not a document we generate (house numbers, survey notifications, letters)."""
    base = {"parcels": list(parcels)}
    if service_code == "wypis-wyrys-egib":
        kinds = EGIB.get(str(data.get("variant", "")), ())
        return [(k, {**base, "legal_basis": egib_legal_basis(data)[:500]}) for k in kinds]
    if service_code == "wypis-wyrys-mpzp":
        return [
            (
                "zoning_extract",
                {**base, "product": str(data.get("product", "")), "copies": data.get("copies", 1)},
            )
        ]
    if service_code == "zaswiadczenie-mpzp":
        return [("zoning_certificate", {**base, "purpose": str(data.get("purpose", ""))[:300]})]
    return []
