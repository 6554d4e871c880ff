"""Start-up check: every active office can seal receipts (receipts.E001), so that a production
install without keys refuses to start instead of sealing with a key nobody trusts (or none).

Registered under the tag "receipts" as a deployment check: `gisportal check --deploy` runs it, and
gisportal/wsgi.py runs it before gunicorn serves a request (the web process refuses to start). The
other commands (migrate, import, demo-data, seal-rotate itself) do not need seals and do not run it.
It only reads: a seal is never generated here."""

from __future__ import annotations

from django.core.checks import Error, Warning, register
from django.db import DatabaseError, ProgrammingError

TAG = "receipts"


@register(TAG, deploy=True)
def office_seals(app_configs=None, **kwargs) -> list:
    from services.offices.models import Office
    from services.offices.seals import seal_problem

    try:
        offices = list(Office.objects.filter(active=True).order_by("code"))
    except ProgrammingError:  # the tables do not exist yet (before the first migrate)
        return []
    except (
        DatabaseError,
        RuntimeError,
    ) as e:  # no database (or tests that block it): nothing to check against
        return [
            Warning(
                f"The office seals could not be checked: the offices could not be read ({e.__class__.__name__}).",
                id="receipts.W001",
            )
        ]
    errors = []
    for office in offices:
        problem = seal_problem(office)
        if problem:
            errors.append(
                Error(
                    problem,
                    hint="Receipts cannot be sealed for this office; see README, 'Office seals'.",
                    obj=office.code,
                    id="receipts.E001",
                )
            )
    return errors
