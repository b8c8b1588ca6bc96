"""Framework codes are unique within a partnership, not across the installation."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0014_partnership_scoping"),
        ("frameworks", "0010_framework_partnership_required"),
    ]

    operations = [
        migrations.AlterField(model_name="framework", name="code", field=models.SlugField(max_length=64)),
        migrations.AddConstraint(
            model_name="framework",
            constraint=models.UniqueConstraint(fields=("partnership", "code"), name="framework_code_per_partnership"),
        ),
    ]
