"""The kind of each service's statutory deadline (services/forms/deadlines.py), and the catalogue's
new versions: EGiB legal grounds, the delivery method on forms that end in a document, the surveyor's
work area. Old versions stay for the submissions filed with them."""

from django.db import migrations, models


def sync(apps, schema_editor):
    from services.forms.catalogue import sync

    sync(apps.get_model("forms", "ServiceDefinition"))


class Migration(migrations.Migration):
    dependencies = [("forms", "0003_service_definitions")]
    operations = [
        migrations.AddField(
            model_name="servicedefinition",
            name="deadline_kind",
            field=models.CharField(blank=True, default="", max_length=20, verbose_name="statutory deadline"),
        ),
        migrations.RunPython(sync, migrations.RunPython.noop),
    ]
