import audiences.models
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("audiences", "0006_employee_language_and_order"),
    ]

    operations = [
        migrations.AddField(
            model_name="employee",
            name="time_zone",
            field=models.CharField(
                blank=True,
                db_default="",
                default="",
                help_text="For example Europe/Helsinki or Europe/London. Empty: the organisation's time zone.",
                max_length=64,
                validators=[audiences.models.validate_time_zone],
                verbose_name="time zone",
            ),
        ),
    ]
