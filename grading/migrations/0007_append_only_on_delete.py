"""Append-only records keep what they hang on: an assignment or a user with extensions, drawn
variants or submitted attempts is protected from deletion (a draft still goes with them). Only
Django's collector reads on_delete: no SQL changes."""

import django.db.models.deletion
import grading.models
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('grading', '0006_variants_and_practice'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterField(
            model_name='extension',
            name='assignment',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='extensions', to='grading.assignment'),
        ),
        migrations.AlterField(
            model_name='extension',
            name='student',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='extensions', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AlterField(
            model_name='submission',
            name='assignment',
            field=models.ForeignKey(on_delete=grading.models.PROTECT_SUBMITTED, related_name='submissions', to='grading.assignment'),
        ),
        migrations.AlterField(
            model_name='submission',
            name='student',
            field=models.ForeignKey(on_delete=grading.models.PROTECT_SUBMITTED, related_name='submissions', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AlterField(
            model_name='variant',
            name='assignment',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='variants', to='grading.assignment'),
        ),
        migrations.AlterField(
            model_name='variant',
            name='student',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='variants', to=settings.AUTH_USER_MODEL),
        ),
    ]
