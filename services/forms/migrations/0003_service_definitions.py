"""Loads the service catalogue (services/forms/definitions/*.json). Later catalogue changes add a
migration that runs the same sync: a new version of a definition replaces the active one."""

from django.db import migrations


def sync(apps, schema_editor):
    from services.forms.catalogue import sync

    sync(apps.get_model("forms", "ServiceDefinition"))  # only the fields the model has at this point


class Migration(migrations.Migration):
    dependencies = [("forms", "0002_submissions_immutable")]
    operations = [migrations.RunPython(sync, migrations.RunPython.noop)]
