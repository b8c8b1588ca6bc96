"""Every framework belongs to a partnership: the existing ones to the installation's default partnership, which
is named after the current framework's home area while it still has the placeholder name. (The column becomes
required in the next migration, so the data change and the schema change run in separate transactions.)"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

PLACEHOLDER = "Default partnership"


def assign_frameworks(apps, schema_editor):
    Partnership = apps.get_model("accounts", "Partnership")
    Framework = apps.get_model("frameworks", "Framework")
    partnership, _ = Partnership.objects.get_or_create(
        code=settings.PCC_PERF_DEFAULT_PARTNERSHIP, defaults={"name": PLACEHOLDER}
    )
    current = (
        Framework.objects.select_related("home_area").filter(is_current=True).order_by("-updated_at", "code").first()
    )
    if current is not None and partnership.name == PLACEHOLDER:
        partnership.name = current.home_area.name
        partnership.save(update_fields=["name"])
    Framework.objects.filter(partnership__isnull=True).update(partnership=partnership)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0013_partnerships"),
        ("frameworks", "0008_area_population"),
    ]

    operations = [
        migrations.AddField(
            model_name="framework",
            name="partnership",
            field=models.ForeignKey(
                help_text="The partnership (LCJB) the framework belongs to.",
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="frameworks",
                to="accounts.partnership",
            ),
        ),
        migrations.RunPython(assign_frameworks, migrations.RunPython.noop),
    ]
