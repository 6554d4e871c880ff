from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LayersConfig(AppConfig):
    name = "layers"
    verbose_name = _("Geodetic registries")

    def ready(self) -> None:
        from . import tasks

        tasks.register()  # stored import jobs go to the Celery task (actions never import the tasks)
