from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("campaigns", "0015_team_talks"),
    ]

    operations = [
        migrations.AddField(
            model_name="emailsend",
            name="local_time",
            field=models.TimeField(blank=True, null=True, verbose_name="local time for each recipient"),
        ),
    ]
