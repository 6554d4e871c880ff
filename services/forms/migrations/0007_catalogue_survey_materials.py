"""The catalogue's new version of the work notification (zgloszenie-prac v3): the surveyor chooses the
resource materials asked for (the fee and the package follow the choice). Old versions stay for old
submissions."""

from django.db import migrations


def sync(apps, schema_editor):
    from services.forms.catalogue import sync

    sync(apps.get_model("forms", "ServiceDefinition"))


class Migration(migrations.Migration):
    dependencies = [("forms", "0006_catalogue_general_letter_delivery")]
    operations = [migrations.RunPython(sync, migrations.RunPython.noop)]
