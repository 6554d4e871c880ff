"""Payment gateways behind one interface (ARCHITECTURE §5.4), chosen by name in settings
(GISPORTAL_PAYMENT_PROVIDERS). Adapters do no database I/O: they speak the gateway's protocol on plain
values, and the actions (`..actions`) keep the books.

The flow every gateway follows (DOMAIN.md §10): our attempt registers a transaction under our own
`session_id` → the payer's browser is redirected to the gateway → the gateway notifies us (signed;
possibly twice, late, or before the browser returns) → we check the signature over the body, then
`confirm` (Przelewy24's mandatory verify call) → the payment is settled once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Protocol


class ProviderError(Exception):
    """The gateway refused or could not be reached (a message for the log and the clerk, never a
    secret). `retryable`: worth trying again later (timeouts, 5xx)."""

    def __init__(self, message: str, *, retryable: bool = False):
        super().__init__(message)
        self.retryable = retryable


class InvalidNotification(Exception):
    """A notification that is malformed or whose signature does not verify: refused and logged,
    never settled."""


@dataclass(frozen=True)
class StartRequest:
    session_id: str  # ours, unique per attempt (the gateway's sessionId)
    amount: int  # grosze
    currency: str  # "PLN"
    description: str  # the transfer title (DOO number and case sign)
    email: str  # the payer's, may be empty
    return_url: str  # where the payer's browser comes back (absolute)
    notify_url: str  # where the gateway sends its notification (absolute; urlStatus)
    language: str = "pl"  # pl | en
    payer_name: str = ""
    payment_id: str = ""  # our payment (the sandbox's hosted page is addressed by it)


@dataclass(frozen=True)
class Started:
    redirect_url: str  # where to send the payer's browser
    provider_ref: str  # the gateway's handle of the registered transaction (Przelewy24: token)


@dataclass(frozen=True)
class Notification:
    """A notification whose signature has been checked."""

    session_id: str
    order_id: str  # the gateway's transaction id (Przelewy24 orderId); "" when it has none
    amount: int  # grosze, as the gateway says it was paid
    currency: str
    outcome: str  # "paid" | "failed" (Przelewy24 notifies only payments: always "paid")
    event_id: str  # what makes this event unique at the gateway (dedupe key)
    raw: Mapping = field(default_factory=dict)  # the parsed body, for the record


@dataclass(frozen=True)
class RemoteStatus:
    session_id: str
    order_id: str
    status: str  # "paid" | "advance" (paid, not yet confirmed by us) | "pending" | "failed" | "refunded" | "unknown"
    amount: int  # grosze
    currency: str
    paid_at: datetime | None = None


class Provider(Protocol):
    name: str

    def start(self, req: StartRequest) -> Started:
        """Register the transaction; raises ProviderError."""
        ...

    def parse_notification(self, body: bytes, headers: Mapping[str, str]) -> Notification:
        """Parse and check the signature over the raw body; raises InvalidNotification."""
        ...

    def confirm(self, n: Notification) -> None:
        """What the gateway demands before a payment counts (Przelewy24: PUT transaction/verify with
        the amount we expect); raises ProviderError when it refuses."""
        ...

    def status(self, session_id: str) -> RemoteStatus | None:
        """The gateway's record of one of our transactions (None: it has none); raises ProviderError."""
        ...

    def refund(
        self, *, session_id: str, order_id: str, amount: int, description: str, request_id: str
    ) -> str:
        """Ask the gateway to refund `amount` grosze; returns its reference; raises ProviderError."""
        ...

    def report(self, day: date) -> list[RemoteStatus]:
        """The gateway's transactions of one day (for reconciliation); raises ProviderError."""
        ...
