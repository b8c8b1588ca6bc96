"""Partnership scoping (issue 18), metrics side.

- A metric belongs to a partnership; an official statistic is shared (empty partnership: one definition and
  one set of figures for every partnership). Codes are unique within a partnership, and among shared ones.
- Collection rounds, rebases and import batches belong to a partnership. Everything that exists goes to the
  default partnership (official statistics become shared; batches of loaded files stay the host's, so their
  official figures are everyone's), so a single-partnership installation behaves as before."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models
from django.db.models import Q


def to_default(apps, schema_editor):
    Partnership = apps.get_model("accounts", "Partnership")
    default, _ = Partnership.objects.get_or_create(
        code=settings.PCC_PERF_DEFAULT_PARTNERSHIP, defaults={"name": "Default partnership"}
    )
    apps.get_model("metrics", "Metric").objects.exclude(source_type="official_statistics").update(partnership=default)
    apps.get_model("metrics", "Rebase").objects.update(partnership=default)
    # Approved returns were the partnership's; files were loaded by the installation's one partnership, in
    # the host's place: their figures of official statistics stay everyone's (empty partnership).
    apps.get_model("metrics", "ImportBatch").objects.filter(source_return__isnull=False).update(partnership=default)
    apps.get_model("metrics", "CollectionRound").objects.update(partnership=default)


def _partnership(null):
    return models.ForeignKey(
        null=null, on_delete=django.db.models.deletion.PROTECT, related_name="rounds", to="accounts.partnership"
    )


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0014_partnership_scoping"),
        ("metrics", "0015_returnupload_checked_rows"),
    ]

    operations = [
        migrations.AddField(
            model_name="metric",
            name="partnership",
            field=models.ForeignKey(
                blank=True,
                null=True,
                help_text="The partnership whose measure it is; empty: a shared official statistic (one definition "
                "and one set of figures for every partnership whose framework uses it).",
                on_delete=django.db.models.deletion.PROTECT,
                related_name="metrics",
                to="accounts.partnership",
            ),
        ),
        migrations.AddField(
            model_name="rebase",
            name="partnership",
            field=models.ForeignKey(
                null=True, on_delete=django.db.models.deletion.CASCADE, related_name="+", to="accounts.partnership"
            ),
        ),
        migrations.AddField(
            model_name="importbatch",
            name="partnership",
            field=models.ForeignKey(
                blank=True,
                null=True,
                help_text="The partnership whose data it loaded (empty: shared official statistics only).",
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="accounts.partnership",
            ),
        ),
        migrations.AddField(model_name="collectionround", name="partnership", field=_partnership(True)),
        migrations.RunPython(to_default, migrations.RunPython.noop),
        migrations.AlterField(model_name="collectionround", name="partnership", field=_partnership(False)),
        migrations.AlterField(
            model_name="collectionround", name="period", field=models.DateField(help_text="Quarter end date.")
        ),
        migrations.AddConstraint(
            model_name="collectionround",
            constraint=models.UniqueConstraint(fields=("partnership", "period"), name="round_per_partnership"),
        ),
        migrations.AlterField(
            model_name="rebase",
            name="partnership",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE, related_name="+", to="accounts.partnership"
            ),
        ),
        migrations.RemoveConstraint(model_name="rebase", name="rebase_unique"),
        migrations.AddConstraint(
            model_name="rebase",
            constraint=models.UniqueConstraint(fields=("partnership", "metric", "period"), name="rebase_unique"),
        ),
        migrations.AlterField(model_name="metric", name="code", field=models.CharField(max_length=32)),
        migrations.AddConstraint(
            model_name="metric",
            constraint=models.UniqueConstraint(
                condition=Q(partnership__isnull=False), fields=("partnership", "code"), name="metric_code_per_partnership"
            ),
        ),
        migrations.AddConstraint(
            model_name="metric",
            constraint=models.UniqueConstraint(
                condition=Q(partnership__isnull=True), fields=("code",), name="metric_code_shared"
            ),
        ),
    ]
