"""The clerk workspace records facts (issue 23): a timeline entry keeps the facts of its step as structured
data (delivery method, date, tracking number and proof; the settling document; the assignee; dates), and a
case document says what it is (a decision or letter that settles the case, a proof of delivery, ...)."""

from django.db import migrations, models

FORWARD = """
UPDATE cases_casedocument SET kind = 'notice_art36'
 WHERE kind = '' AND direction = 'out' AND name LIKE 'zawiadomienie-art36-%';
UPDATE cases_casedocument SET kind = 'scan' WHERE kind = '' AND direction = 'in';
"""


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0005_payment_due_state"),
    ]

    operations = [
        migrations.AddField(
            model_name="timelineentry",
            name="data",
            field=models.JSONField(blank=True, default=dict),
        ),
        migrations.AddField(
            model_name="casedocument",
            name="kind",
            field=models.CharField(
                blank=True,
                choices=[
                    ("scan", "scan of a paper letter"),
                    ("decision", "decision"),
                    ("letter", "letter or certificate"),
                    ("notice_art36", "notice of a delay (art. 36 KPA)"),
                    ("delivery_proof", "proof of delivery"),
                ],
                max_length=20,
                default="",
            ),
            preserve_default=False,
        ),
        migrations.RunSQL(FORWARD, migrations.RunSQL.noop),
    ]
