# Users, agencies, the audit trail and API tokens moved to the accounts app. Their tables keep their names
# (frameworks_*), so this migration changes only Django's state: nothing is copied or rebuilt.

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('frameworks', '0004_returns'),
        ('accounts', '0001_initial'),
        # Every foreign key to the moved models points at accounts before they leave frameworks' state.
        ('metrics', '0005_accounts_move'),
        ('reports', '0005_accounts_move'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.AlterField(
                    model_name='frameworkversion',
                    name='created_by',
                    field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, to=settings.AUTH_USER_MODEL),
                ),
                migrations.DeleteModel(name='ApiToken'),
                migrations.DeleteModel(name='AuditEvent'),
                migrations.DeleteModel(name='User'),
                migrations.DeleteModel(name='Agency'),
            ],
        ),
    ]
