# A metric's place in a framework and the validation rules moved to the metrics app (metrics point at
# frameworks, never back). Their tables keep their names (frameworks_*), so this migration changes only Django's
# state: nothing is copied or rebuilt. metrics.0008_catalogue_move takes them into metrics' state.

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('frameworks', '0005_move_to_accounts'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.DeleteModel(name='FrameworkMetric'),
                migrations.DeleteModel(name='ValidationRule'),
            ],
        ),
    ]
