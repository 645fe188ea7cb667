# The old grade columns of Submission and the FormulaReview table, once 0003 moved them into
# the ledger.

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("grading", "0003_grades_into_ledger"),
    ]

    operations = [
        migrations.RemoveField(
            model_name='formulareview',
            name='reviewer',
        ),
        migrations.RemoveField(
            model_name='formulareview',
            name='submission',
        ),
        migrations.RemoveConstraint(
            model_name='submission',
            name='submitted_has_time_and_score',
        ),
        migrations.RemoveField(
            model_name='submission',
            name='grader_version',
        ),
        migrations.RemoveField(
            model_name='submission',
            name='max_score',
        ),
        migrations.RemoveField(
            model_name='submission',
            name='report',
        ),
        migrations.RemoveField(
            model_name='submission',
            name='score',
        ),
        migrations.AddConstraint(
            model_name='submission',
            constraint=models.CheckConstraint(condition=models.Q(('state', 'draft'), ('submitted_at__isnull', False), _connector='OR'), name='submitted_has_time'),
        ),
        migrations.DeleteModel(
            name='FormulaReview',
        ),
    ]
