"""Every framework has a partnership (0009 gave the existing ones the default partnership)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("frameworks", "0009_framework_partnership"),
    ]

    operations = [
        migrations.AlterField(
            model_name="framework",
            name="partnership",
            field=models.ForeignKey(
                help_text="The partnership (LCJB) the framework belongs to.",
                on_delete=django.db.models.deletion.PROTECT,
                related_name="frameworks",
                to="accounts.partnership",
            ),
        ),
    ]
