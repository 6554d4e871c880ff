"""The catalogue's new version of the general letter (pismo-ogolne v2): it asks how the office's answer is to
be delivered (the portal inbox, e-Doręczenia, post, in person). Old versions stay for old submissions."""

from django.db import migrations


def sync(apps, schema_editor):
    from services.forms.catalogue import sync

    sync(apps.get_model("forms", "ServiceDefinition"))


class Migration(migrations.Migration):
    dependencies = [("forms", "0005_attachment_signature_check")]
    operations = [migrations.RunPython(sync, migrations.RunPython.noop)]
