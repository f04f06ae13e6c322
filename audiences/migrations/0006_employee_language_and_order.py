# People sort in the organisation's alphabetical order (Å, Ä, Ö after Z on PostgreSQL), and a person's
# language is one of the content languages (CONTENT_LANGUAGES), not only Swedish or English.

import lib.collation
import lib.translations
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("audiences", "0003_employee_scim_provisioning"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="employee",
            options={
                "ordering": [
                    models.OrderBy(lib.collation.Alphabetical("last_name")),
                    models.OrderBy(lib.collation.Alphabetical("first_name")),
                    "id",
                ],
                "verbose_name": "employee",
                "verbose_name_plural": "employees",
            },
        ),
        migrations.AlterField(
            model_name="employee",
            name="language",
            field=models.CharField(
                choices=lib.translations.content_languages, default="sv", max_length=2, verbose_name="language"
            ),
        ),
    ]
