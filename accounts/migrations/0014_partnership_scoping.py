"""Partnership scoping (issue 18), accounts side: an agency's contacts are per partnership; audit events and API
keys may name their partnership. Existing contacts go to the default partnership; existing audit events keep
an empty partnership (the default partnership's trail shows them)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def contacts_to_default(apps, schema_editor):
    Partnership = apps.get_model("accounts", "Partnership")
    AgencyContacts = apps.get_model("accounts", "AgencyContacts")
    if not AgencyContacts.objects.exists():
        return
    default, _ = Partnership.objects.get_or_create(
        code=settings.PCC_PERF_DEFAULT_PARTNERSHIP, defaults={"name": "Default partnership"}
    )
    AgencyContacts.objects.update(partnership=default)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0013_partnerships"),
    ]

    operations = [
        migrations.AddField(
            model_name="agencycontacts",
            name="partnership",
            field=models.ForeignKey(
                null=True, on_delete=django.db.models.deletion.CASCADE, related_name="+", to="accounts.partnership"
            ),
        ),
        migrations.RunPython(contacts_to_default, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="agencycontacts",
            name="partnership",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE, related_name="+", to="accounts.partnership"
            ),
        ),
        migrations.AlterField(
            model_name="agencycontacts",
            name="agency",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE, related_name="contacts", to="accounts.agency"
            ),
        ),
        migrations.AddConstraint(
            model_name="agencycontacts",
            constraint=models.UniqueConstraint(fields=("partnership", "agency"), name="agency_contacts_per_partnership"),
        ),
        migrations.AddField(
            model_name="auditevent",
            name="partnership",
            field=models.ForeignKey(
                blank=True,
                null=True,
                help_text="The partnership the change was made in (empty: the installation's shared data, or an "
                "event from before partnerships, which the default partnership's trail shows).",
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="accounts.partnership",
            ),
        ),
        migrations.AddIndex(
            model_name="auditevent",
            index=models.Index(fields=["partnership", "at"], name="audit_partnership_at"),
        ),
        migrations.AddField(
            model_name="apitoken",
            name="partnership",
            field=models.ForeignKey(
                blank=True,
                null=True,
                help_text="The partnership the key reads (empty: the one named by ?partnership=, else the user's "
                "only one).",
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="accounts.partnership",
            ),
        ),
    ]
