"""Snapshot observations get the observation's checks (``metrics.models.figure_constraints``), and the
shared figure fields' default status."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0006_report_and_pack_states"),
    ]

    operations = [
        migrations.AlterField(
            model_name="snapshotobservation",
            name="status",
            field=models.CharField(
                choices=[("provisional", "Provisional"), ("final", "Final"), ("revised", "Revised")],
                default="provisional",
                max_length=12,
            ),
        ),
        migrations.AddConstraint(
            model_name="snapshotobservation",
            constraint=models.CheckConstraint(
                condition=models.Q(("denominator__isnull", True), ("denominator__gt", 0), _connector="OR"),
                name="snapobs_denominator_positive",
            ),
        ),
        migrations.AddConstraint(
            model_name="snapshotobservation",
            constraint=models.CheckConstraint(
                condition=models.Q(("numerator__isnull", True), ("numerator__gte", 0), _connector="OR"),
                name="snapobs_numerator_not_negative",
            ),
        ),
        migrations.AddConstraint(
            model_name="snapshotobservation",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("value__isnull", True), ("value__gte", 0), ("unit__in", ["score"]), _connector="OR"
                ),
                name="snapobs_value_not_negative",
            ),
        ),
        migrations.AddConstraint(
            model_name="snapshotobservation",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("unit", "percentage"), _negated=True),
                    ("value__isnull", True),
                    models.Q(("value__gte", 0), ("value__lte", 100)),
                    _connector="OR",
                ),
                name="snapobs_percentage_in_range",
            ),
        ),
        migrations.AddConstraint(
            model_name="snapshotobservation",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("unit__in", ["percentage", "rate_per_1000", "rate_per_100000"]), _negated=True),
                    ("numerator__isnull", True),
                    ("denominator__isnull", True),
                    ("numerator__lte", models.F("denominator")),
                    _connector="OR",
                ),
                name="snapobs_numerator_within_denominator",
            ),
        ),
        migrations.AddConstraint(
            model_name="snapshotobservation",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("missing", ""), ("value__isnull", False)),
                    models.Q(("missing__in", ["x", "z"]), ("value__isnull", True)),
                    _connector="OR",
                ),
                name="snapobs_value_or_missing",
            ),
        ),
    ]
