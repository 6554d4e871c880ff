import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gisportal.settings")
application = get_wsgi_application()

from ogc.tiles.wsgi import TileFastPath  # noqa: E402 - needs the settings and apps loaded above

application = TileFastPath(application)
