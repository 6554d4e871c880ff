"""The one table of case states and transitions. Every change of state is one of these, checked
here (from which states, who may) and carried out by `actions.case_transition`."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from .models import State

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


@dataclass(frozen=True)
class Transition:
    name: str
    label: str
    sources: frozenset[str]
    target: str | None  # None: the state does not change (assignment of another clerk)
    public: bool = True  # an entry the applicant sees, and an e-mail
    inputs: tuple[str, ...] = ()  # assignee | due_days | forwarded_to | new_date
    pause: str = ""  # opens a pause of the deadline (art. 35 § 5 KPA) with this reason
    resume: bool = False  # closes the open pause
    manual: bool = True  # offered to clerks; False: carried out by the system (payments)


TRANSITIONS: dict[str, Transition] = {
    t.name: t
    for t in (
        Transition(
            "assign",
            _("Assign to a clerk"),
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
        ),
        Transition(
            "start", _("Start work"), frozenset({State.REGISTERED, State.ASSIGNED}), State.IN_PROGRESS
        ),
        Transition(
            "mark_complicated",
            _("Mark as particularly complicated (two months)"),
            frozenset({State.REGISTERED, State.ASSIGNED, State.IN_PROGRESS}),
            None,
        ),
        Transition(
            "request_supplement",
            _("Call the applicant to supplement the request"),
            frozenset({State.IN_PROGRESS}),
            State.WAITING_APPLICANT,
            inputs=("due_days",),
            pause="supplement",
        ),
        Transition(
            "supplement_received",
            _("Supplement received"),
            frozenset({State.WAITING_APPLICANT}),
            State.IN_PROGRESS,
            resume=True,
        ),
        # the fee: a fee document (DOO or stamp-duty request) is issued at filing or by a clerk
        # (actions.case_fee_issue); the payment moves the case on by itself (payments' callback)
        Transition(
            "request_payment",
            _("Fee document issued; waiting for payment"),
            frozenset({State.REGISTERED, State.ASSIGNED, State.IN_PROGRESS}),
            State.PAYMENT_DUE,
            pause="payment",
            manual=False,
        ),
        Transition(
            "payment_received",
            _("Fee paid"),
            frozenset({State.PAYMENT_DUE}),
            State.IN_PROGRESS,
            resume=True,
            manual=False,
        ),
        Transition(
            "payment_cancelled",
            _("Fee document cancelled"),
            frozenset({State.PAYMENT_DUE}),
            State.IN_PROGRESS,
            resume=True,
            manual=False,
        ),
        Transition(
            "notify_delay",
            _("Notify the applicant of a delay (art. 36 KPA)"),
            ACTIVE,
            None,
            inputs=("new_date",),
        ),
        Transition(
            "suspend",
            _("Suspend the proceedings (art. 97 KPA)"),
            frozenset({State.IN_PROGRESS}),
            State.SUSPENDED,
            pause="suspension",
        ),
        Transition(
            "resume",
            _("Resume the proceedings"),
            frozenset({State.SUSPENDED}),
            State.IN_PROGRESS,
            resume=True,
        ),
        Transition(
            "settle",
            _("Settle (decision, certificate or extract issued)"),
            frozenset({State.IN_PROGRESS}),
            State.SETTLED,
        ),
        Transition("deliver", _("Delivered to the applicant"), frozenset({State.SETTLED}), State.DELIVERED),
        Transition(
            "close",
            _("Close the case"),
            frozenset({State.DELIVERED, State.WITHDRAWN, State.LEFT_UNCONSIDERED, State.FORWARDED}),
            State.CLOSED,
        ),
        Transition("withdraw", _("Request withdrawn by the applicant"), ACTIVE, State.WITHDRAWN, resume=True),
        Transition(
            "leave_unconsidered",
            _(
                "Leave without consideration (no supplement, or the stamp duty unpaid: art. 64 § 2, 261 § 1 KPA)"
            ),
            frozenset({State.WAITING_APPLICANT, State.PAYMENT_DUE}),
            State.LEFT_UNCONSIDERED,
            resume=True,
        ),
        Transition(
            "forward",
            _("Forward to the competent office (art. 65 KPA)"),
            frozenset({State.REGISTERED, State.ASSIGNED, State.IN_PROGRESS}),
            State.FORWARDED,
            inputs=("forwarded_to",),
        ),
    )
}


def allowed(state: str) -> list[Transition]:
    """What a clerk may do now (the system's own transitions are not offered)."""
    return [t for t in TRANSITIONS.values() if state in t.sources and t.manual]
