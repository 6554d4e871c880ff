"""The fee stage is `payment_due` (issue "Online fee payment"), formerly `waiting_payment`."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('cases', '0004_sign_unique_per_office'),
    ]

    operations = [
        migrations.AlterField(
            model_name='case',
            name='state',
            field=models.CharField(choices=[('registered', 'registered'), ('assigned', 'assigned'), ('in_progress', 'in progress'), ('waiting_applicant', 'waiting for the applicant'), ('payment_due', 'waiting for payment'), ('suspended', 'suspended'), ('settled', 'settled'), ('delivered', 'delivered'), ('closed', 'closed'), ('withdrawn', 'withdrawn'), ('left_unconsidered', 'left without consideration'), ('forwarded', 'forwarded to the competent office')], default='registered', max_length=20, verbose_name='state'),
        ),
        migrations.RunSQL(
            "UPDATE cases_case SET state = 'payment_due' WHERE state = 'waiting_payment';"
            "UPDATE cases_timelineentry SET from_state = 'payment_due' WHERE from_state = 'waiting_payment';"
            "UPDATE cases_timelineentry SET to_state = 'payment_due' WHERE to_state = 'waiting_payment';",
            "UPDATE cases_case SET state = 'waiting_payment' WHERE state = 'payment_due';",
        ),
    ]
