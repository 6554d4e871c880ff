from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LayersConfig(AppConfig):
    name = "layers"
    verbose_name = _("Geodetic registries")

    def ready(self) -> None:
        from . import catalogue, tasks
        from .sources import harvested

        tasks.register()  # stored import jobs and harvest runs go to Celery (actions never import the tasks)
        catalogue.set_extra_layers(harvested.catalogue_layers)  # harvested layers are catalogue entries
