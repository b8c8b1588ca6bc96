"""The region a partnership belongs to (issue 18): the regional view puts the partnerships of one region side by
side, those that share their published figures with it. Existing partnerships have none."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0014_partnership_scoping"),
    ]

    operations = [
        migrations.AddField(
            model_name="partnership",
            name="region",
            field=models.CharField(
                blank=True,
                help_text="The region the partnership belongs to (an area name such as “West Midlands”): the regional "
                "view puts it beside the partnerships of the same region that share their published figures. Empty: "
                "none.",
                max_length=100,
            ),
        ),
        migrations.AlterField(
            model_name="partnership",
            name="shares_published_with_region",
            field=models.BooleanField(
                default=False,
                help_text="The owner's choice to let the region's other partnerships read its published snapshots and "
                "reports (never anything unpublished) in the regional view.",
            ),
        ),
    ]
