"""A large class's gradebook export runs as a staff job (issue 18, item 3): a new kind, and the
built file kept in the job's row (``output``) until its page expires."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("grading", "0017_assignment_changes"),
    ]

    operations = [
        migrations.AddField(
            model_name="staffjob",
            name="output",
            field=models.TextField(blank=True),
        ),
        migrations.AlterField(
            model_name="staffjob",
            name="kind",
            field=models.CharField(choices=[("roster", "Roster import"), ("export", "Gradebook export")],
                                   max_length=10),
        ),
    ]
