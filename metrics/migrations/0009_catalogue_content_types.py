# Databases made before the move have content types (and so permissions and admin log entries) and audit
# events labelled frameworks.<model> for the moved models: relabel them metrics.<model>. On a new database
# there is nothing to relabel.

from django.db import migrations

MOVED = ("frameworkmetric", "validationrule")


def relabel(apps, schema_editor, old="frameworks", new="metrics"):
    ContentType = apps.get_model("contenttypes", "ContentType")
    AuditEvent = apps.get_model("accounts", "AuditEvent")
    db = schema_editor.connection.alias
    for model in MOVED:
        if not ContentType.objects.using(db).filter(app_label=new, model=model).exists():
            ContentType.objects.using(db).filter(app_label=old, model=model).update(app_label=new)
        AuditEvent.objects.using(db).filter(object_type=f"{old}.{model}").update(object_type=f"{new}.{model}")


def relabel_back(apps, schema_editor):
    relabel(apps, schema_editor, old="metrics", new="frameworks")


class Migration(migrations.Migration):

    dependencies = [
        ('metrics', '0008_catalogue_move'),
        ('accounts', '0002_content_types'),
        ('contenttypes', '0002_remove_content_type_name'),
    ]

    operations = [
        migrations.RunPython(relabel, relabel_back),
    ]
