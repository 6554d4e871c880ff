"""Loads the service catalogue (services/forms/definitions/*.json). Later catalogue changes add a
migration that runs the same sync: a new version of a definition replaces the active one."""

from django.db import migrations


def sync(apps, schema_editor):
    from services.forms.catalogue import definitions

    ServiceDefinition = apps.get_model("forms", "ServiceDefinition")
    for d in definitions():
        if ServiceDefinition.objects.filter(code=d["code"], version=d["version"]).exists():
            continue
        ServiceDefinition.objects.filter(code=d["code"], active=True).update(active=False)
        ServiceDefinition.objects.create(active=True, **d)


class Migration(migrations.Migration):
    dependencies = [("forms", "0002_submissions_immutable")]
    operations = [migrations.RunPython(sync, migrations.RunPython.noop)]
