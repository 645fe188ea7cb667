"""Every staff change to an assignment is a record (who, when, before, after, why): made, edited,
published, unpublished. Append-only like the ledger: the database refuses UPDATE and DELETE
(the function of migration 0008 on PostgreSQL). Existing assignments get no invented history."""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

TABLE = "grading_assignmentchange"
MESSAGE = "%s rows are append-only: {op} refused; append a new record instead" % TABLE


def forwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        for op in ("UPDATE", "DELETE"):
            schema_editor.execute(f"CREATE TRIGGER {TABLE}_append_only_{op.lower()} BEFORE {op} ON {TABLE} "
                                  f"FOR EACH ROW BEGIN SELECT RAISE(ABORT, '{MESSAGE.format(op=op)}'); END")
    elif vendor == "postgresql":
        schema_editor.execute(f"CREATE TRIGGER {TABLE}_append_only BEFORE UPDATE OR DELETE ON {TABLE} "
                              f"FOR EACH ROW EXECUTE FUNCTION grading_append_only_refuse()")


def backwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        for op in ("update", "delete"):
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {TABLE}_append_only_{op}")
    elif vendor == "postgresql":
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {TABLE}_append_only ON {TABLE}")


class Migration(migrations.Migration):

    dependencies = [
        ('grading', '0016_lti'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='AssignmentChange',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('kind', models.CharField(choices=[('create', 'Created'), ('edit', 'Edited'), ('publish', 'Published'), ('unpublish', 'Unpublished')], max_length=10)),
                ('changes', models.JSONField(blank=True, default=dict, help_text='Each changed field: its value before and after.')),
                ('reason', models.TextField(blank=True, max_length=2000)),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now)),
                ('assignment', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='changes', to='grading.assignment')),
                ('created_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='assignment_changes', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'ordering': ['assignment', '-created_at', '-pk'],
            },
        ),
        migrations.RunPython(forwards, backwards, elidable=False),
    ]
