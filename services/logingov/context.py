"""`logingov_enabled` in every template: the login page offers login.gov.pl only when a node is configured."""

from . import config


def logingov(request) -> dict:
    return {"logingov_enabled": config.enabled()}
