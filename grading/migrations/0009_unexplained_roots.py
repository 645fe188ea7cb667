"""The policy for roots of carried credit that no honest slip explains.

Assignments made before it keep what they had (every root carried: "carry"), so a regrade of
an old assignment changes no grade behind anyone's back; new assignments default to "review".
"""

from django.db import migrations, models

CHOICES = [('review', 'wait for review by staff'), ('carry', 'carried (no check)'), ('none', 'no carried credit')]
HELP = ('What happens to the cells carried from a wrong value that no honest slip explains (an invented or '
        'copied value): they wait for staff review, are carried as before, or earn no carried credit.')


class Migration(migrations.Migration):

    dependencies = [
        ('grading', '0008_append_only_triggers'),
    ]

    operations = [
        migrations.AddField(
            model_name='assignment',
            name='unexplained_roots',
            field=models.CharField(choices=CHOICES, default='carry', help_text=HELP, max_length=8),
        ),
        migrations.AlterField(
            model_name='assignment',
            name='unexplained_roots',
            field=models.CharField(choices=CHOICES, default='review', help_text=HELP, max_length=8),
        ),
    ]
