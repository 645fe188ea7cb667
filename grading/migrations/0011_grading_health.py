from django.db import migrations, models
import django.utils.timezone


class Migration(migrations.Migration):

    dependencies = [
        ('grading', '0010_draft_versions'),
    ]

    operations = [
        migrations.CreateModel(
            name='WorkerHeartbeat',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('worker_id', models.CharField(max_length=64, unique=True)),
                ('host', models.CharField(blank=True, max_length=255)),
                ('pid', models.PositiveIntegerField(default=0)),
                ('started_at', models.DateTimeField(default=django.utils.timezone.now)),
                ('beat_at', models.DateTimeField(db_index=True, default=django.utils.timezone.now)),
                ('task_id', models.CharField(blank=True, max_length=64)),
            ],
            options={
                'ordering': ['-beat_at'],
            },
        ),
    ]
