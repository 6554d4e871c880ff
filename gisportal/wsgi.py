import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gisportal.settings")
application = get_wsgi_application()


def _refuse_to_start_without_seals() -> None:
    """gunicorn runs no system checks: the seal check (receipts.E001) runs here, and a worker that
    cannot seal receipts fails to boot (gunicorn then stops) instead of serving unsealed receipts."""
    import logging

    from django.core import checks
    from django.core.exceptions import ImproperlyConfigured

    from services.receipts.checks import TAG

    messages = checks.run_checks(tags=[TAG], include_deployment_checks=True)
    for m in messages:
        if not m.is_serious():
            logging.getLogger("gisportal.wsgi").warning("%s", m)
    serious = [m for m in messages if m.is_serious()]
    if serious:
        raise ImproperlyConfigured(
            "gisportal refuses to start:\n" + "\n".join(f"{m.id}: {m.msg}" for m in serious)
        )


_refuse_to_start_without_seals()

from ogc.tiles.wsgi import TileFastPath  # noqa: E402 - needs the settings and apps loaded above

application = TileFastPath(application)
