"""Draft versions (issue 18): every save of a draft keeps what the draft held, a bounded history
a student restores from. A version is never edited: the database refuses an UPDATE (as migration
0008 does for the records); DELETE is allowed, for the save service's prune of the oldest versions
beyond the bound and for a draft deleted with its versions."""

import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models


TABLE = "grading_draftversion"
MESSAGE = f"{TABLE} rows are append-only: UPDATE refused; append a new record instead"


def forwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        schema_editor.execute(f"CREATE TRIGGER {TABLE}_append_only_update BEFORE UPDATE ON {TABLE} "
                              f"FOR EACH ROW BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END")
    elif vendor == "postgresql":  # the function of migration 0008
        schema_editor.execute(f"CREATE TRIGGER {TABLE}_append_only BEFORE UPDATE ON {TABLE} "
                              f"FOR EACH ROW EXECUTE FUNCTION grading_append_only_refuse()")


def backwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {TABLE}_append_only_update")
    elif vendor == "postgresql":
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {TABLE}_append_only ON {TABLE}")


class Migration(migrations.Migration):

    dependencies = [
        ('grading', '0009_unexplained_roots'),
    ]

    operations = [
        migrations.CreateModel(
            name='DraftVersion',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('number', models.PositiveIntegerField()),
                ('answers', models.JSONField(blank=True, default=dict)),
                ('cells', models.PositiveIntegerField(default=0, help_text='How many answers were filled.')),
                ('kind', models.CharField(choices=[('save', 'Save'), ('restore', 'Restore')], default='save', max_length=8)),
                ('restored_from', models.PositiveIntegerField(blank=True, null=True)),
                ('saved_at', models.DateTimeField(default=django.utils.timezone.now)),
                ('draft', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='draft_versions', to='grading.submission')),
            ],
            options={
                'ordering': ['draft', '-number'],
                'constraints': [models.UniqueConstraint(fields=('draft', 'number'), name='one_row_per_draft_version')],
            },
        ),
        migrations.RunPython(forwards, backwards, elidable=False),
    ]
