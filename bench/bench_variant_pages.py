"""Median time of the pages of a class with per-student numbers (issue 9), through Django's test
client on a throwaway SQLite file: the class key page of a 200-student variant assignment (each
cell's spread over the class in one vectorised numpy pass), a student's own key, the gradebook,
a student's first open (draws and stores their variant), an autosave, and the authoring preview.

A measurement, not a test: `make bench` prints it.
"""
import copy
import os
import sys
import tempfile
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
STUDENTS = int(os.environ.get("BENCH_STUDENTS", "200"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backprop_site.settings")
os.environ.setdefault("DJANGO_DEBUG", "1")
os.environ["DJANGO_TASKS_IMMEDIATE"] = "1"
os.environ["DATABASE_URL"] = f"sqlite:///{tempfile.mkdtemp()}/bench.sqlite3"

import django  # noqa: E402

django.setup()
from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.test import Client  # noqa: E402

from bench.timing import median_ms  # noqa: E402
from grading import services  # noqa: E402
from grading.models import Membership, Variant  # noqa: E402
from tests.factories import SPEC_4_1, make_assignment, make_member  # noqa: E402


def template() -> dict:
    """Homework 4.1 with its weights, biases and round 1's inputs ranged."""
    t = copy.deepcopy(SPEC_4_1)
    t["weights"] = [[{"range": [0.1, 0.9], "step": 0.05} for _ in row] for row in t["weights"]]
    t["biases"] = [{"range": [0.1, 0.5], "step": 0.05} for _ in t["biases"]]
    t["samples"][0]["x"] = [{"range": [0.1, 0.9], "step": 0.1} for _ in t["samples"][0]["x"]]
    return t


def get_ms(client: Client, url: str, runs: int = 20) -> float:
    def get() -> None:
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
    return median_ms(get, runs, warmup=1)


def post_ms(client: Client, url: str, data: dict, runs: int = 20) -> float:
    body = urlencode(data)

    def post() -> None:
        response = client.post(url, body, content_type="application/x-www-form-urlencoded")
        assert response.status_code == 200, (url, response.status_code, response.content[:300])
    return median_ms(post, runs, warmup=1)


def preview_form() -> dict:
    data = {"n_inputs": "2", "n_layers": "1", "units_1": "2", "activation_1": "sigmoid",
            "loss": "half_sse", "update_biases": "on", "rounds": "4", "lr": "1", "decimals": "4",
            "w-1-1-1": "0.1..0.9 step 0.05", "w-1-1-2": "0.3", "w-1-2-1": "0.1", "w-1-2-2": "0.5",
            "b-1-1": "0.3", "b-1-2": "0.4"}
    for r, sample in enumerate(SPEC_4_1["samples"], start=1):
        data.update({f"x-{r}-{i}": str(v) for i, v in enumerate(sample["x"], start=1)})
        data.update({f"y-{r}-{j}": str(v) for j, v in enumerate(sample["y"], start=1)})
    return data


def main() -> None:
    settings.ALLOWED_HOSTS = ["testserver"]
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    call_command("migrate", verbosity=0)
    assignment = make_assignment(spec=template())
    course = assignment.course
    teacher = make_member(course=course, username="teacher", role=Membership.Role.INSTRUCTOR)
    students = [make_member(course=course, username=f"s{k:03d}") for k in range(STUDENTS)]
    for student in students:
        services.variant_draw(assignment=assignment, student=student)
    print(f"{STUDENTS} students, each with their own variant of Homework 4.1 (6 ranged numbers)")
    staff = Client()
    staff.force_login(teacher)
    pk = assignment.pk
    variant = Variant.objects.filter(assignment=assignment).first()
    for label, url in [
        (f"class key page ({STUDENTS} variants)", f"/assignments/{pk}/key/"),
        ("a student's own key", f"/assignments/{pk}/variants/{variant.pk}/"),
        (f"gradebook ({STUDENTS} variants)", f"/assignments/{pk}/gradebook/"),
    ]:
        print(f"{label:<34} median {get_ms(staff, url):8.2f} ms")

    fresh = [make_member(course=course, username=f"new{k:03d}") for k in range(21)]
    clients = []
    for student in fresh:
        client = Client()
        client.force_login(student)
        clients.append(client)
    queue = iter(clients)

    def first_open() -> None:
        response = next(queue).get(f"/assignments/{pk}/")
        assert response.status_code == 200
    print(f"{'first open (draws, stores)':<34} median {median_ms(first_open, 20, warmup=1):8.2f} ms")
    student = clients[0]
    autosave = {"r1.forward.s1": "0.4600", "r1.forward.f1": "0.6130", "formulas.s1": "w11*x1 + w21*x2 + b1"}
    saving = post_ms(student, f"/assignments/{pk}/draft/", autosave)
    print(f"{'autosave (a variant student)':<34} median {saving:8.2f} ms")
    print(f"{'authoring preview (a range)':<34} median "
          f"{post_ms(staff, f'/courses/{course.code}/authoring/preview/', preview_form()):8.2f} ms")


if __name__ == "__main__":
    main()
