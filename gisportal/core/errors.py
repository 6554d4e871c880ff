"""Errors shared by every layer. Each carries a machine code and a localised message;
the edge (OGC exception, problem JSON, form error, CLI) decides how to render it."""

from __future__ import annotations


class GisportalError(Exception):
    """Base of our own errors: safe to show to the user (never contains SQL or paths)."""

    code = "error"
    status = 400

    def __init__(self, message: str, *, code: str | None = None, field: str | None = None):
        super().__init__(str(message))
        self.message = message
        if code:
            self.code = code
        self.field = field


class InvalidInput(GisportalError):
    code = "invalid_input"
    status = 400


class NotFound(GisportalError):
    code = "not_found"
    status = 404


class Forbidden(GisportalError):
    code = "forbidden"
    status = 403


class ConfigurationError(GisportalError):
    code = "configuration"
    status = 500
