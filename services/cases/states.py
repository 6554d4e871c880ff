"""The one table of case states and transitions. Every change of state is one of these, checked
here (from which states, who may) and carried out by `actions.case_transition`.

Each transition carries its words: `label` (the clerk's button, imperative), `done` (what happened, past
tense, for the timeline), `mail` (a whole sentence for the applicant's e-mail) and, when the step cannot be
undone, `consequence` (what the confirmation page says will happen). `entry_text` words any timeline entry
in the reader's language from its action and stored facts, for new rows and old ones alike."""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.utils.translation import get_language, override
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from .models import State, TimelineEntry

ACTIVE = frozenset(
    {
        State.REGISTERED,
        State.ASSIGNED,
        State.IN_PROGRESS,
        State.WAITING_APPLICANT,
        State.PAYMENT_DUE,
        State.SUSPENDED,
    }
)
OPEN = ACTIVE | {State.SETTLED, State.DELIVERED}
TEXT_VERSION = 1  # `data["v"]` of entries whose facts are structured (older rows have data == {})


@dataclass(frozen=True)
class Transition:
    name: str
    label: str
    sources: frozenset[str]
    target: str | None  # None: the state does not change (assignment of another clerk)
    public: bool = True  # an entry the applicant sees, and an e-mail
    inputs: tuple[str, ...] = ()  # assignee | due_days | forwarded_to | new_date | document | delivery
    pause: str = ""  # opens a pause of the deadline (art. 35 § 5 KPA) with this reason
    resume: bool = False  # closes the open pause
    manual: bool = True  # offered to clerks; False: carried out by the system (payments)
    done: str = ""  # past tense, for the timeline; %(assignee)s, %(date)s, %(forwarded_to)s
    mail: str = ""  # a whole sentence for the applicant's e-mail; %(sign)s, %(office)s and the facts
    consequence: str = ""  # non-empty: the step needs a confirmation (POST with confirm=1) saying this


TRANSITIONS: dict[str, Transition] = {
    t.name: t
    for t in (
        Transition(
            "assign",
            _lazy("Assign to a clerk"),
            frozenset(
                {
                    State.REGISTERED,
                    State.ASSIGNED,
                    State.IN_PROGRESS,
                    State.WAITING_APPLICANT,
                    State.PAYMENT_DUE,
                }
            ),
            None,
            public=False,
            inputs=("assignee",),
            done=_lazy("Assigned to %(assignee)s"),
        ),
        Transition(
            "start",
            _lazy("Start work"),
            frozenset({State.REGISTERED, State.ASSIGNED}),
            State.IN_PROGRESS,
            done=_lazy("Work started"),
            mail=_lazy("Your case %(sign)s is now being handled by %(office)s."),
        ),
        Transition(
            "mark_complicated",
            _lazy("Mark as particularly complicated (two months)"),
            frozenset({State.REGISTERED, State.ASSIGNED, State.IN_PROGRESS}),
            None,
            done=_lazy("Marked as particularly complicated: two months to settle"),
            mail=_lazy(
                "Your case %(sign)s has been found particularly complicated; %(office)s will settle it by "
                "%(deadline)s."
            ),
            consequence=_lazy(
                "The time to settle becomes two months from the start of the case; the applicant is told."
            ),
        ),
        Transition(
            "request_supplement",
            _lazy("Call the applicant to supplement the request"),
            frozenset({State.IN_PROGRESS}),
            State.WAITING_APPLICANT,
            inputs=("due_days",),
            pause="supplement",
            done=_lazy("Supplement requested until %(date)s"),
            mail=_lazy("%(office)s asks you to supplement your request in case %(sign)s by %(date)s."),
        ),
        Transition(
            "supplement_received",
            _lazy("Supplement received"),
            frozenset({State.WAITING_APPLICANT}),
            State.IN_PROGRESS,
            resume=True,
            done=_lazy("Supplement received"),
            mail=_lazy("%(office)s has received the supplement in case %(sign)s and continues handling it."),
        ),
        # the fee: a fee document (DOO or stamp-duty request) is issued at filing or by a clerk
        # (actions.case_fee_issue); the payment moves the case on by itself (payments' callback)
        Transition(
            "request_payment",
            _lazy("Fee document issued; waiting for payment"),
            frozenset({State.REGISTERED, State.ASSIGNED, State.IN_PROGRESS}),
            State.PAYMENT_DUE,
            pause="payment",
            manual=False,
            done=_lazy("Fee document issued"),
            mail=_lazy(
                "A fee of %(amount)s zł is due in case %(sign)s (fee document %(number)s); please pay it by "
                "%(due)s."
            ),
        ),
        Transition(
            "payment_received",
            _lazy("Fee paid"),
            frozenset({State.PAYMENT_DUE}),
            State.IN_PROGRESS,
            resume=True,
            manual=False,
            done=_lazy("Fee paid"),
            mail=_lazy("The fee in case %(sign)s has been paid; %(office)s continues handling the case."),
        ),
        Transition(
            "payment_cancelled",
            _lazy("Fee document cancelled"),
            frozenset({State.PAYMENT_DUE}),
            State.IN_PROGRESS,
            resume=True,
            manual=False,
            done=_lazy("Fee document cancelled"),
            mail=_lazy(
                "The fee document in case %(sign)s has been cancelled; %(office)s continues handling the case."
            ),
        ),
        Transition(
            "notify_delay",
            _lazy("Notify the applicant of a delay (art. 36 KPA)"),
            ACTIVE,
            None,
            inputs=("new_date",),
            done=_lazy("Applicant notified of a delay; new date %(date)s"),
            mail=_lazy("Case %(sign)s will not be settled on time; the new date is %(date)s (art. 36 KPA)."),
            consequence=_lazy(
                "A notice under art. 36 KPA with the new date and the reasons is made as a PDF and kept with "
                "the case, and the applicant is told."
            ),
        ),
        Transition(
            "suspend",
            _lazy("Suspend the proceedings (art. 97 KPA)"),
            frozenset({State.IN_PROGRESS}),
            State.SUSPENDED,
            pause="suspension",
            done=_lazy("Proceedings suspended"),
            mail=_lazy("The proceedings in case %(sign)s have been suspended (art. 97 KPA)."),
            consequence=_lazy(
                "The time to settle stops running until the proceedings are resumed; the applicant is told."
            ),
        ),
        Transition(
            "resume",
            _lazy("Resume the proceedings"),
            frozenset({State.SUSPENDED}),
            State.IN_PROGRESS,
            resume=True,
            done=_lazy("Proceedings resumed"),
            mail=_lazy("The proceedings in case %(sign)s have been resumed."),
        ),
        Transition(
            "settle",
            _lazy("Settle (decision, certificate or extract issued)"),
            frozenset({State.IN_PROGRESS}),
            State.SETTLED,
            inputs=("document",),
            done=_lazy("Case settled"),
            mail=_lazy("Your case %(sign)s has been settled: %(documents)s."),
            consequence=_lazy(
                "The case is recorded as settled by the chosen outgoing document; the next step is its "
                "delivery to the applicant."
            ),
        ),
        Transition(
            "deliver",
            _lazy("Record the delivery to the applicant"),
            frozenset({State.SETTLED}),
            State.DELIVERED,
            inputs=("delivery",),
            done=_lazy("Delivered to the applicant"),
            mail=_lazy("The document in case %(sign)s was delivered to you %(method)s on %(date)s."),
            consequence=_lazy(
                "The method, date and proof of delivery are recorded for good; the case can then be closed."
            ),
        ),
        Transition(
            "close",
            _lazy("Close the case"),
            frozenset({State.DELIVERED, State.WITHDRAWN, State.LEFT_UNCONSIDERED, State.FORWARDED}),
            State.CLOSED,
            done=_lazy("Case closed"),
            mail=_lazy("Your case %(sign)s has been closed."),
            consequence=_lazy(
                "The case is closed and leaves the list of open cases; no further step can be taken in it."
            ),
        ),
        Transition(
            "withdraw",
            _lazy("Record the applicant's withdrawal of the request"),
            ACTIVE,
            State.WITHDRAWN,
            resume=True,
            done=_lazy("Request withdrawn by the applicant"),
            mail=_lazy(
                "The withdrawal of your request in case %(sign)s has been recorded; the case will not be "
                "continued."
            ),
            consequence=_lazy(
                "The case ends as withdrawn at the applicant's request; it can then only be closed. The "
                "applicant is told."
            ),
        ),
        Transition(
            "leave_unconsidered",
            _lazy(
                "Leave without consideration (no supplement, or the stamp duty unpaid: art. 64 § 2, 261 § 1 KPA)"
            ),
            frozenset({State.WAITING_APPLICANT, State.PAYMENT_DUE}),
            State.LEFT_UNCONSIDERED,
            resume=True,
            done=_lazy("Request left without consideration"),
            mail=_lazy("Your request in case %(sign)s has been left without consideration."),
            consequence=_lazy(
                "The request is left without consideration; the case can then only be closed. The applicant "
                "is told."
            ),
        ),
        Transition(
            "forward",
            _lazy("Forward to the competent office (art. 65 KPA)"),
            frozenset({State.REGISTERED, State.ASSIGNED, State.IN_PROGRESS}),
            State.FORWARDED,
            inputs=("forwarded_to",),
            done=_lazy("Forwarded to %(forwarded_to)s"),
            mail=_lazy(
                "Your case %(sign)s has been forwarded to %(forwarded_to)s, the competent office (art. 65 KPA)."
            ),
            consequence=_lazy(
                "The case leaves this office's work: it is recorded as forwarded to the named office, and the "
                "applicant is told."
            ),
        ),
    )
}

# Steps of the clerk's case page that are not transitions but need a confirmation too.
REISSUE_CODE = "reissue_code"
REISSUE_LABEL = _lazy("Issue a new access code")
REISSUE_CONSEQUENCE = _lazy(
    "A new access code is made and shown once on a printable confirmation; the previous code stops working "
    "at once."
)

# How a settled case's document reaches the applicant: label, phrase for sentences, tracking number and
# proof (an uploaded scan of the return receipt or the signed confirmation) required.
DELIVERY_METHODS: dict[str, tuple[str, str, bool, bool]] = {
    "portal": (_lazy("through the portal"), _lazy("through the portal"), False, False),
    "edoreczenia": (_lazy("e-Doręczenia (e-delivery)"), _lazy("by e-Doręczenia"), False, False),
    "post": (_lazy("by registered post"), _lazy("by registered post"), True, True),
    "in_person": (_lazy("in person at the office"), _lazy("in person at the office"), False, True),
}
SETTLING_KINDS = ("decision", "letter")  # outgoing case documents that settle a case without a product

# Labels the timeline was written with before `done` existed (rows keep them: label (extra): note).
_HISTORIC_LABELS = {
    "request_payment": ("Ask for the fee", "Wezwij do uiszczenia opłaty"),
    "leave_unconsidered": (
        "Leave without consideration (no supplement)",
        "Pozostaw bez rozpoznania (brak uzupełnienia)",
    ),
    "deliver": ("Delivered to the applicant", "Doręczono wnioskodawcy"),
    "withdraw": ("Request withdrawn by the applicant", "Wnioskodawca wycofał wniosek"),
}
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")

SYSTEM_TEXTS = {
    "register": _lazy("Request received (%(channel)s) and registered as case %(sign)s"),
    "document_issued": _lazy("Document issued"),
    "document_added": _lazy("Outgoing document filed with the case"),
    "payment_started": _lazy("Payment started"),
    "payment_failed": _lazy("Payment did not go through"),
    "payment_paid": _lazy("Fee paid"),
    "payment_refunded": _lazy("Fee refunded"),
    "payment_cancelled": _lazy("Fee document cancelled"),
    "payment_flagged": _lazy("Payment difference sent to a clerk for review"),
    "access_reissued": _lazy("New access code issued; the previous one no longer works"),
    "delivery_sent": _lazy("Document sent to the applicant"),
    "document_delivered": _lazy("Document delivered to the applicant"),
    "delivery_returned": _lazy("The letter came back undelivered"),
    "exchange_sent": _lazy("The case, its request and documents sent electronically to %(office)s"),
    "exchange_received": _lazy(
        "Forwarded by %(office)s (its case %(sign)s, received there on %(date)s) as the competent office "
        "(art. 65 KPA)"
    ),
    "exchange_answer": _lazy("Answer received from %(office)s: %(subject)s"),
}


def allowed(state: str) -> list[Transition]:
    """What a clerk may do now (the system's own transitions are not offered)."""
    return [t for t in TRANSITIONS.values() if state in t.sources and t.manual]


def needs_confirmation(action: str) -> bool:
    t = TRANSITIONS.get(action)
    return action == REISSUE_CODE or bool(t and t.manual and t.consequence)


class Facts(dict):
    """Values for a text's placeholders; a fact an old row does not hold reads as a dash."""

    def __missing__(self, key):
        return "—"


def delivery_phrase(method: str) -> str:
    m = DELIVERY_METHODS.get(method)
    return str(m[1]) if m else method


def facts(entry: TimelineEntry) -> tuple[Facts, str]:
    """(the placeholders' values, the clerk's own note) of an entry: from `data` on rows written with it,
    else recovered from the stored text of an older row (label (extra): note) and the case."""
    data = entry.data or {}
    if data.get("v"):
        values = Facts({k: v for k, v in data.items() if isinstance(v, str | int | float)})
        if "method" in data:
            values["method"] = delivery_phrase(data["method"])
        return values, str(data.get("note", "") or "")
    values = Facts()
    if entry.action not in TRANSITIONS:  # an older system entry: its stored words are Polish only
        return values, ""
    extra, note = _old_parts(entry)
    if entry.action == "assign" and extra:
        values["assignee"] = extra
    elif entry.action in ("request_supplement", "notify_delay"):
        found = _DATE.search(extra)
        if found:
            values["date"] = found.group(0)
        elif entry.action == "notify_delay" and entry.case.deadline_notified:
            values["date"] = entry.case.deadline_notified.isoformat()
    elif entry.action == "forward":
        values["forwarded_to"] = extra or entry.case.forwarded_to or "—"
    elif extra:
        note = f"{extra}: {note}" if note else extra
    return values, note


def _old_parts(entry: TimelineEntry) -> tuple[str, str]:
    """(extra, note) of an old row's text "label (extra): note", the label in Polish or English."""
    text = (entry.note or "").strip()
    t = TRANSITIONS.get(entry.action)
    labels = set(_HISTORIC_LABELS.get(entry.action, ()))
    if t is not None:
        for lang in ("pl", "en", get_language() or "pl"):
            with override(lang):
                labels.add(str(t.label))
    rest = None
    for label in sorted(labels, key=len, reverse=True):
        if label and text.startswith(label):
            rest = text[len(label) :]
            break
    if rest is None:  # written some other way: the whole text is the detail
        return "", text
    extra = ""
    m = re.match(r"^ \((.*?)\)(?=:|$)", rest, re.S)
    if m:
        extra, rest = m.group(1).strip(), rest[m.end() :]
    return extra, rest[1:].strip() if rest.startswith(":") else rest.strip()


def _details(action: str, f: Facts) -> str:
    """The facts a step records, in words (empty when the entry holds none)."""
    if action == "request_payment" and "number" in f:
        return _("%(number)s, %(amount)s zł, to be paid by %(due)s") % f
    if (
        action in ("payment_received", "payment_paid", "payment_refunded", "payment_started")
        and "amount" in f
    ):
        text = _("%(amount)s zł") % f
        if "how" in f:
            text += ", " + (_("bank transfer") if f["how"] == "transfer" else str(f["how"]))
        if "booked_on" in f:
            text += ", " + _("booked on %(booked_on)s") % f
        if "reference" in f:
            text += ", " + _("reference %(reference)s") % f
        if "number" in f:
            text += ", " + f["number"]
        return text
    if action == "settle" and "documents" in f:
        return f["documents"]
    if action in ("deliver", "document_delivered") and "method" in f:
        text = _("%(method)s on %(date)s") % f
        if "how" in f and f["how"] == "deemed":
            text += " " + _("(deemed delivered: not collected within 14 days)")
        if "tracking_no" in f:
            text += ", " + _("tracking number %(tracking_no)s") % f
        if "proof_name" in f:
            text += ", " + _("proof: %(proof_name)s") % f
        if "period_ends" in f and f.get("what") == "call":
            text += "; " + _("the answer is due by %(period_ends)s") % f
        elif "period_ends" in f:
            text += "; " + _("the period for an appeal or complaint ends on %(period_ends)s") % f
        return text
    if action in ("delivery_sent", "delivery_returned") and "title" in f:
        return _("%(title)s, %(method)s") % f
    if action == "document_added" and "name" in f:
        return f["name"]
    if action == "document_issued" and "number" in f:
        from services.documents.kinds import KINDS

        kind = KINDS.get(f.get("kind", ""))
        text = f"{kind[0]} {f['number']}" if kind else f["number"]
        if "replaces" in f:
            text += " " + _("(replaces %(replaces)s)") % f
        return text
    return ""


_ISO_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def local_date(value):
    """A stored ISO day ("2026-12-21") as people read it in the current language ("21 grudnia 2026")."""
    if isinstance(value, str) and _ISO_DAY.match(value):
        from datetime import date

        from django.utils.formats import date_format

        try:
            return date_format(date.fromisoformat(value), "j E Y")
        except ValueError:
            return value
    return value


def entry_text(entry: TimelineEntry) -> str:
    """One timeline entry in plain words in the current language, past tense, each fact once: what was
    done, the facts it recorded, and the clerk's own note after a dash. Works on rows of every action,
    old ones included (their facts are recovered from the stored text)."""
    action = entry.action
    if action == "note":
        data = entry.data or {}
        return str(data.get("note", "")) if data.get("v") else entry.note
    t = TRANSITIONS.get(action)
    base = t.done if t is not None else SYSTEM_TEXTS.get(action)
    if base is None:  # an action this table does not know: its stored words
        return entry.note
    old = not (entry.data or {}).get("v")
    if old and t is None and (get_language() or "pl").startswith("pl") and entry.note:
        return entry.note  # an older system entry: its Polish words say more than the bare action
    values, note = facts(entry)
    values = Facts({k: local_date(v) for k, v in values.items()})
    if action == "register":
        values.update(channel=entry.case.get_channel_display(), sign=entry.case.sign)
    text = str(base) % values
    details = _details(action, values)
    if details:
        text = f"{text}: {details}"
    if note:
        text = f"{text} – {note}"
    return text
