"""Return values get the observation's checks they lacked (``metrics.models.figure_constraints``)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("metrics", "0006_upload_states"),
    ]

    operations = [
        migrations.AddConstraint(
            model_name="returnvalue",
            constraint=models.CheckConstraint(
                condition=models.Q(("numerator__isnull", True), ("numerator__gte", 0), _connector="OR"),
                name="return_value_numerator_not_negative",
            ),
        ),
        migrations.AddConstraint(
            model_name="returnvalue",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("value__isnull", True), ("value__gte", 0), ("unit__in", ["score"]), _connector="OR"
                ),
                name="return_value_value_not_negative",
            ),
        ),
        migrations.AddConstraint(
            model_name="returnvalue",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("unit__in", ["percentage", "rate_per_1000", "rate_per_100000"]), _negated=True),
                    ("numerator__isnull", True),
                    ("denominator__isnull", True),
                    ("numerator__lte", models.F("denominator")),
                    _connector="OR",
                ),
                name="return_value_numerator_within_denominator",
            ),
        ),
    ]
