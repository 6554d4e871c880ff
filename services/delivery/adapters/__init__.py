"""The e-Doręczenia provider behind one interface (ARCHITECTURE §5.4): the real client speaks the
provider's REST API over HTTPS (`edoreczenia.py`); tests and the demo run it against the local fake provider
(`fake_edoreczenia.py`, `python -m services.delivery.adapters.fake_edoreczenia --port 8096`). The provider's
URL and the office's credentials are configuration (GISPORTAL_EDORECZENIA_URL, ..._CLIENT_ID, ..._SECRET); a
user's input never chooses where the server connects: the addressee's AE address is only data sent to the
provider."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol


class ProviderError(Exception):
    """The provider could not be reached or refused the message; `retry` says whether trying later may help."""

    def __init__(self, message: str, *, retry: bool = True):
        super().__init__(message)
        self.retry = retry


@dataclass(frozen=True)
class Message:
    """What is sent: the sender's and addressee's AE addresses, a subject, the document (one PDF)."""

    delivery_id: str
    sender_ade: str
    recipient_ade: str
    subject: str
    file_name: str
    content: bytes
    content_type: str = "application/pdf"


@dataclass(frozen=True)
class Evidence:
    """A proof the provider issued: `kind` "submission" (dowód nadania), "acceptance" (the message reached
    the addressee's box: dowód przyjęcia), "receipt" (dowód otrzymania: opened, or deemed by the provider);
    `deemed` for a receipt the provider issued because the message was left unopened."""

    kind: str
    at: datetime
    xml: bytes = b""
    deemed: bool = False


@dataclass(frozen=True)
class SendResult:
    message_id: str
    evidences: list[Evidence] = field(default_factory=list)


class EDeliveryProvider(Protocol):
    def send(self, message: Message) -> SendResult: ...

    def evidences(self, message_id: str) -> list[Evidence]: ...


_provider: EDeliveryProvider | None = None


def provider() -> EDeliveryProvider:
    """The configured provider (the HTTP client of `edoreczenia.py`)."""
    global _provider
    if _provider is None:
        from .edoreczenia import HttpProvider

        _provider = HttpProvider.from_settings()
    return _provider


def use(p: EDeliveryProvider | None) -> None:
    """Replace the provider (tests; None: read the settings again)."""
    global _provider
    _provider = p
