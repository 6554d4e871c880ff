"""KVP parameters of an OGC request: GET query or form-encoded POST, names case-insensitive,
values already percent-decoded by Django."""

from __future__ import annotations

from django.utils.translation import gettext as _

from .exceptions import OGCException

MAX_PARAMS = 100
MAX_VALUE = 64 * 1024


class Params:
    def __init__(self, data: dict[str, str]):
        self._d = data

    @classmethod
    def from_request(cls, request) -> Params:
        source = request.GET if request.method == "GET" else request.POST if request.POST else request.GET
        if len(source) > MAX_PARAMS:
            raise OGCException("InvalidParameterValue", _("Too many parameters."))
        data: dict[str, str] = {}
        for key in source:
            value = source.getlist(key)[-1]
            if "\x00" in key or "\x00" in value:  # a multipart POST is not checked by the middleware
                raise OGCException(
                    "InvalidParameterValue",
                    _("NUL characters are not allowed in requests."),
                    key[:30].replace("\x00", ""),
                )
            if len(value) > MAX_VALUE:
                raise OGCException(
                    "InvalidParameterValue", _("Parameter %(p)s is too long.") % {"p": key[:30]}, key[:30]
                )
            data[key.upper()] = value
        return cls(data)

    def as_dict(self) -> dict[str, str]:
        return dict(self._d)

    def get(self, name: str, default: str | None = None) -> str | None:
        return self._d.get(name.upper(), default)

    def has(self, name: str) -> bool:
        return name.upper() in self._d

    def require(self, name: str) -> str:
        value = self._d.get(name.upper())
        if value is None or value == "":
            raise OGCException("MissingParameterValue", _("Parameter %(p)s is missing.") % {"p": name}, name)
        return value

    def integer(
        self,
        name: str,
        *,
        required: bool = True,
        default: int | None = None,
        lo: int | None = None,
        hi: int | None = None,
        code: str = "InvalidParameterValue",
    ) -> int | None:
        raw = self.require(name) if required else self.get(name)
        if raw in (None, ""):
            return default
        try:
            value = int(raw.strip())
        except ValueError:
            raise OGCException(
                code, _("Parameter %(p)s must be a whole number.") % {"p": name}, name
            ) from None
        if (lo is not None and value < lo) or (hi is not None and value > hi):
            raise OGCException(
                code,
                _("Parameter %(p)s is out of range (%(lo)s–%(hi)s).") % {"p": name, "lo": lo, "hi": hi},
                name,
            )
        return value

    def boolean(self, name: str, default: bool = False) -> bool:
        raw = (self.get(name) or "").strip().upper()
        if raw in ("TRUE", "1", "YES"):
            return True
        if raw in ("FALSE", "0", "NO", ""):
            return default if raw == "" else False
        raise OGCException(
            "InvalidParameterValue", _("Parameter %(p)s must be TRUE or FALSE.") % {"p": name}, name
        )
