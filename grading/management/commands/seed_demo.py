"""python manage.py seed_demo: course FRA501 with Homework 4.1, a hidden-layer homework, a momentum
homework and a softmax homework (both from the library of templates), an instructor, a TA and
students.

Idempotent (``make run`` calls it every time). The passwords are for a local demo only, so the
command refuses to run with debug off unless --force is given.
"""
import json
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from grading import services
from grading.models import Assignment, Membership

SPEC_PATH = Path(__file__).resolve().parents[2] / "specs" / "homework-4.1.json"
HIDDEN_SPEC_PATH = Path(__file__).resolve().parents[2] / "specs" / "hidden-layer-2-2-2.json"
LIBRARY = Path(__file__).resolve().parents[2] / "specs" / "library"
MOMENTUM_SPEC_PATH = LIBRARY / "mitchell-4.7-momentum.json"
SOFTMAX_SPEC_PATH = LIBRARY / "softmax-classifier-2-3.json"

STATEMENT = """\
Try backpropagation by hand! The network has an input layer of 2 nodes and an output layer of \
2 nodes; each output node sums its inputs (Σ) and applies the sigmoid (σ). The initial weights \
are [w11, w12, w21, w22] = [0.2, 0.3, 0.1, 0.5] (w_ij goes from input i to output j) and the \
biases [b1, b2] = [0.3, 0.4]. Train for four rounds, one sample per round, with learning rate 1 \
and the loss L = Σ_n (y_n − f_n)² / 2.

1. Write each function of the forward and the backward pass (think recursively): a forward \
function in terms of the previous function; a backward function in terms of the previous \
function and the variable of differentiation; the target gradients (dL/dw.., dL/db..) in terms \
of the input variables. (30 points)
2. Fill in the round 1 table, 4 decimal places. (35 points)
3. Fill in the round 2 table. (35 points)
4.–5. Rounds 3 and 4 (extra credit). 6. The loss per round is plotted from your L cells (extra credit)."""

HIDDEN_STATEMENT = """\
Backpropagation through a hidden layer. The network has 2 inputs, a hidden layer of 2 sigmoid \
units and an output layer of 2 sigmoid units. A cell's layer is written in brackets after its \
name: w12[2] is the weight from hidden unit 1 to output unit 2, s1[1] the first hidden unit's sum \
(on the page: s₁ with [1] above). Train for four rounds, one sample per round, with learning rate \
1 and the loss L = Σ_n (y_n − f_n[2])² / 2. Every gradient of a round is taken at the weights \
the round started with.

1. Write each function of the forward and the backward pass: a hidden unit's dL/df through the \
next layer's dL/ds and weights, dL/df1[1] = w11[2]·dL/ds1[2] + w12[2]·dL/ds2[2]. (30 points)
2. Fill in the round 1 table, 4 decimal places. (35 points)
3. Fill in the round 2 table. (35 points)
4.–5. Rounds 3 and 4 (extra credit). 6. The loss per round is plotted from your L cells (extra credit)."""

MOMENTUM_STATEMENT = """\
Mitchell's exercise 4.7, with momentum. Two inputs a and b feed one hidden sigmoid unit c, which \
feeds one output sigmoid unit d; every weight and threshold starts at 0.1. Train on (a=1, b=0, \
d=1), then (a=0, b=1, d=0), one example a round, with learning rate 0.3, momentum 0.9 and the \
loss L = (y − f[2])²/2. With momentum a weight's step is Δw = −0.3·dL/dw + 0.9·Δw of the round \
before (0 before round 1), and w ← w + Δw: write each Δw in the updated column, and the round \
before's Δw beside the weights in round 2.

1. Write each function of the forward and the backward pass. (30 points)
2. Fill in the round 1 table, 4 decimal places. (35 points)
3. Fill in the round 2 table. (35 points)"""

SOFTMAX_STATEMENT = """\
A softmax classifier. Two inputs feed three softmax units: f_j = exp(s_j)/(exp(s1) + exp(s2) + \
exp(s3)), and the loss is the cross-entropy L = −(y1·ln f1 + y2·ln f2 + y3·ln f3) of a one-hot \
target. Train for two rounds, one sample a round, with learning rate 0.5.

1. Write each function of the forward and the backward pass; dL/ds_j through the whole layer \
comes to f_j − y_j. (30 points)
2. Fill in the round 1 table, 4 decimal places. (35 points)
3. Fill in the round 2 table. (35 points)"""

DEMO_USERS = [
    ("instructor", "Ins", "Tructor", Membership.Role.INSTRUCTOR, "demo-instructor-41"),
    ("ta", "Tee", "Ay", Membership.Role.TA, "demo-ta-41"),
    ("student1", "Somchai", "Student", Membership.Role.STUDENT, "demo-student-41"),
    ("student2", "Suda", "Student", Membership.Role.STUDENT, "demo-student-41"),
    ("student3", "Niran", "Student", Membership.Role.STUDENT, "demo-student-41"),
]


PRACTICE_STATEMENT = """\
Practice as often as you like: the network of Homework 4.1, but every attempt draws new numbers \
for some weights, a bias and round 1's x1 (each student gets their own). Expected values are \
shown after each attempt, and practice attempts do not count in the gradebook."""


def practice_template() -> dict:
    """Homework 4.1 with w11, w22, b1 and round 1's x1 drawn per student and attempt."""
    spec = json.loads(SPEC_PATH.read_text())
    spec["weights"] = [[{"range": [0.1, 0.5], "step": 0.1}, 0.3], [0.1, {"range": [0.2, 0.6], "step": 0.1}]]
    spec["biases"] = [{"range": [0.1, 0.4], "step": 0.1}, 0.4]
    spec["samples"][0]["x"] = [{"choice": [0.2, 0.4, 0.6, 0.8]}, 0.8]
    return spec


class Command(BaseCommand):
    help = ("Load the FRA501 demo: Homework 4.1, a hidden-layer homework, a momentum and a softmax "
            "homework, a practice with per-student numbers, an instructor, a TA and three students.")

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true",
                            help="seed even with debug off (the demo passwords are public)")

    def handle(self, *args, force: bool = False, **options):
        if not settings.DEBUG and not force:
            raise CommandError("seed_demo creates users with published passwords; "
                               "run it with DJANGO_DEBUG=1 or pass --force.")
        with transaction.atomic():
            course = services.course_ensure(code="FRA501", title="Pattern Recognition")
            for username, first, last, role, password in DEMO_USERS:
                user = services.user_ensure(username=username, password=password, first_name=first,
                                            last_name=last, email=f"{username}@example.org")
                services.membership_ensure(course=course, user=user, role=role)
            services.user_ensure(username="admin", password="demo-admin-41", is_staff=True, is_superuser=True)
            if not Assignment.objects.filter(course=course, slug="homework-4-1").exists():
                now = timezone.now()
                services.assignment_create(
                    course=course, title="Homework 4.1 (Backpropagation)", slug="homework-4-1",
                    spec=json.loads(SPEC_PATH.read_text()), statement=STATEMENT,
                    opens_at=now - timedelta(days=1), due_at=now + timedelta(days=14),
                    reveal=Assignment.Reveal.AFTER_ATTEMPT, max_attempts=3)
            if not Assignment.objects.filter(course=course, slug="hidden-layer").exists():
                now = timezone.now()
                services.assignment_create(
                    course=course, title="Homework 4.2 (Backpropagation with a hidden layer)",
                    slug="hidden-layer", spec=json.loads(HIDDEN_SPEC_PATH.read_text()),
                    statement=HIDDEN_STATEMENT, opens_at=now - timedelta(days=1),
                    due_at=now + timedelta(days=21), reveal=Assignment.Reveal.AFTER_ATTEMPT,
                    max_attempts=3)
            for slug, title, path, statement in (
                    ("momentum", "Homework 4.3 (Momentum: Mitchell's exercise 4.7)", MOMENTUM_SPEC_PATH,
                     MOMENTUM_STATEMENT),
                    ("softmax", "Homework 4.4 (A softmax classifier with cross-entropy)", SOFTMAX_SPEC_PATH,
                     SOFTMAX_STATEMENT)):
                if not Assignment.objects.filter(course=course, slug=slug).exists():
                    now = timezone.now()
                    services.assignment_create(
                        course=course, title=title, slug=slug, spec=json.loads(path.read_text())["spec"],
                        statement=statement, opens_at=now - timedelta(days=1), due_at=now + timedelta(days=28),
                        reveal=Assignment.Reveal.AFTER_ATTEMPT, max_attempts=3)
            if not Assignment.objects.filter(course=course, slug="practice-4-1").exists():
                now = timezone.now()
                services.assignment_create(
                    course=course, title="Practice: Homework 4.1 with your own numbers",
                    slug="practice-4-1", spec=practice_template(), statement=PRACTICE_STATEMENT,
                    opens_at=now - timedelta(days=1), due_at=now + timedelta(days=60),
                    reveal=Assignment.Reveal.AFTER_ATTEMPT, practice=True)
        self.stdout.write("Demo logins (local use only):")
        for username, _, _, role, password in DEMO_USERS:
            self.stdout.write(f"  {username:<11} {password:<20} {role}")
        self.stdout.write(f"  {'admin':<11} {'demo-admin-41':<20} Django admin (/admin/)")
