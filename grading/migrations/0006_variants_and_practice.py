"""Per-student variants (issue 9): each assignment's seed, practice mode, the Variant records and
the problem each attempt answers. Existing assignments get a seed of their own each (a field's
default is computed once for all rows)."""

import django.db.models.deletion
import django.utils.timezone
import grading.models
from django.conf import settings
from django.db import migrations, models


def own_seeds(apps, schema_editor):
    Assignment = apps.get_model("grading", "Assignment")
    for assignment in Assignment.objects.only("pk"):
        Assignment.objects.filter(pk=assignment.pk).update(seed=grading.models.random_seed())


class Migration(migrations.Migration):

    dependencies = [
        ('grading', '0005_submit_receipts_and_grace'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='assignment',
            name='practice',
            field=models.BooleanField(default=False, help_text='Practice: unlimited attempts, a fresh variant on every attempt, expected values at once, not counted in any total.'),
        ),
        migrations.AddField(
            model_name='assignment',
            name='seed',
            field=models.BigIntegerField(default=grading.models.random_seed, editable=False, help_text="Draws each student's numbers from the spec's ranges; never changed."),
        ),
        migrations.RunPython(own_seeds, migrations.RunPython.noop),
        migrations.AlterField(
            model_name='assignment',
            name='spec',
            field=models.JSONField(help_text='{"weights": [[w11, w12], [w21, w22]], "biases": [b1, b2], "learning_rate": 1, "samples": [{"x": [..], "y": [..]}, ...]}; any number may be {"range": [lo, hi], "step": s} or {"choice": [v1, v2]}: each student then gets their own numbers.', validators=[grading.models.validate_spec]),
        ),
        migrations.CreateModel(
            name='Variant',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('attempt_no', models.PositiveSmallIntegerField(default=0, help_text="0: the student's problem; n: attempt n's of a practice assignment.")),
                ('spec', models.JSONField(help_text='The concrete spec, numbers only.')),
                ('spec_sha256', models.CharField(help_text="SHA-256 of the spec's canonical JSON.", max_length=64)),
                ('drawn_at', models.DateTimeField(default=django.utils.timezone.now)),
                ('assignment', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='variants', to='grading.assignment')),
                ('student', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='variants', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'ordering': ['assignment', 'student', 'attempt_no'],
            },
        ),
        migrations.AddField(
            model_name='submission',
            name='variant',
            field=models.ForeignKey(blank=True, help_text="The problem this attempt answers; blank: the assignment's shared spec.", null=True, on_delete=django.db.models.deletion.RESTRICT, related_name='submissions', to='grading.variant'),
        ),
        migrations.AddConstraint(
            model_name='variant',
            constraint=models.UniqueConstraint(fields=('assignment', 'student', 'attempt_no'), name='one_variant_per_student_attempt'),
        ),
    ]
