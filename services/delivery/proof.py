"""The proof of delivery (UPD, modelled on the UPO/UPD of DOMAIN.md §8, our own namespace), sealed by the
sending office with XAdES like its receipts: who sent what to whom, through which channel, when it
arrived, when and how it was delivered, and the period that delivery starts. Anyone can check it with the
signature verifier (/podpis/)."""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse
from lxml import etree

from services.offices import sealing
from services.offices.seals import seal_for

NS = "https://gisportal.piaseczno.eu/schemas/upd/1.0"
HOW = {"opened": "odebrano", "signed": "pokwitowano odbiór", "deemed": "uznano za doręczone"}
CHANNEL = {"portal": "skrzynka portalu", "edoreczenia": "e-Doręczenia", "paper": "przesyłka polecona"}


def _el(parent, tag: str, text: str | None = None, **attrs):
    el = etree.SubElement(parent, f"{{{NS}}}{tag}", {k: v for k, v in attrs.items() if v})
    if text is not None:
        el.text = text
    return el


def build(d) -> etree._Element:
    root = etree.Element(f"{{{NS}}}UPD", nsmap={"upd": NS})
    _el(root, "IdentyfikatorPoswiadczenia", str(d.pk))
    _el(root, "KodWeryfikacyjny", d.proof_code)
    sender = _el(root, "Nadawca")
    _el(sender, "Nazwa", d.office.name)
    if d.office.nip:
        _el(sender, "IdentyfikatorPodmiotu", d.office.nip, TypIdentyfikatora="NIP")
    addressee = _el(root, "Adresat")
    _el(addressee, "Nazwa", d.addressee_name)
    if d.channel == "edoreczenia":
        _el(addressee, "AdresDoDoreczenElektronicznych", d.ade_address)
    elif d.channel == "paper":
        _el(addressee, "AdresPocztowy", d.postal_address)
    elif d.addressee_user is not None:
        _el(addressee, "KontoPortalu", d.addressee_user.get_username())
    _el(root, "Kanal", CHANNEL.get(d.channel, d.channel), Kod=d.channel)
    if d.tracking_no:
        _el(root, "NumerNadawczy", d.tracking_no)
    if d.sent_at:
        _el(root, "DataNadania", d.sent_at.isoformat())
    if d.arrived_at:
        _el(root, "DataDostarczenia", d.arrived_at.isoformat())
    if d.first_notice_on:
        _el(root, "DataPierwszegoAwiza", d.first_notice_on.isoformat())
    if d.second_notice_on:
        _el(root, "DataPowtornegoAwiza", d.second_notice_on.isoformat())
    _el(root, "DataDoreczenia", d.delivered_at.isoformat())
    _el(root, "SposobDoreczenia", HOW.get(d.delivered_how, d.delivered_how), Kod=d.delivered_how)
    document = _el(root, "Dokument")
    _el(document, "Tytul", d.title)
    _el(document, "Identyfikator", d.source)
    if d.case_sign:
        _el(document, "ZnakSprawy", d.case_sign)
    _el(document, "Skrot", d.sha256, Algorytm="SHA-256")
    if d.period_ends:
        _el(root, "TerminNaWniesienieSrodka", d.period_ends.isoformat(), Dni=str(d.period_days or ""))
    _el(root, "AdresWeryfikacji", settings.GISPORTAL_PUBLIC_URL + reverse("signature_check"))
    return root


def sealed(d) -> bytes:
    """The UPD sealed with the office's seal (raises SealUnavailable without one: never unsealed)."""
    return sealing.sign(build(d), seal_for(d.office))
