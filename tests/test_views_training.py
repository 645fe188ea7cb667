"""The pages of issue 20's assignments (a momentum homework, a softmax batch homework), through
Django's client: the entry tables ask every sample's and the optimizer's cells, a submission is
graded, and the key page shows them."""

from __future__ import annotations

import pytest
from django.urls import reverse

from grading.keyaudit.library import template
from tests.factories import make_assignment, report_of
from tests.test_marking_training import student
from tests.webtools import client_for, submit

pytestmark = pytest.mark.django_db

SOFTMAX_BATCH = {
    "layers": [{"weights": [[0.2, -0.1, 0.0], [0.1, 0.3, -0.2]], "biases": [0.0, 0.0, 0.0], "activation": "softmax"}],
    "loss": "ce", "learning_rate": 0.5, "batch": 2, "reduce": "mean",
    "samples": [{"x": [1.0, 2.0], "y": [1, 0, 0]}, {"x": [0.5, -1.0], "y": [0, 0, 1]},
                {"x": [-0.5, 1.0], "y": [0, 1, 0]}, {"x": [1.5, 0.5], "y": [1, 0, 0]}],
}


def _values(spec_json: dict, rounds: int = 2) -> dict[str, str]:
    answers = student(spec_json)
    return {f"r{t['round']}.{column}.{name}": text for t in answers["rounds"] if t["round"] <= rounds
            for column, cells in t.items() if column != "round" for name, text in cells.items()}


# Mitchell's inputs (1, 0) then (0, 1): the gradients of the weights from the 0 are given 0s.
GIVEN_ZEROS = {"momentum": {"r1.backward.dL/dw21[1]", "r2.backward.dL/dw11[1]"}, "softmax-batch": set()}


@pytest.mark.parametrize(("spec_json", "kind"), [(template("mitchell-4.7-momentum").spec_json, "momentum"),
                                                 (SOFTMAX_BATCH, "softmax-batch")], ids=["momentum", "softmax-batch"])
def test_the_page_asks_for_the_new_cells_and_grades_them(world, spec_json, kind):
    assignment = make_assignment(course=world["course"], slug="training", spec=spec_json, reveal="after_attempt",
                                 max_attempts=2)
    client = client_for(world["alice"])
    html = client.get(reverse("grading:assignment", args=[assignment.pk])).content.decode()
    values = _values(spec_json)
    assert GIVEN_ZEROS[kind] <= set(values)
    for name in GIVEN_ZEROS[kind]:
        assert f'name="{name}"' not in html, name
        del values[name]
    for name in values:
        assert f'name="{name}"' in html, name
    sub = submit(client, assignment, values)
    report = report_of(sub)
    asked = {m.id: m for m in report.cells if m.round <= 2}
    assert set(asked) == set(values)
    assert {m.status for m in asked.values()} <= {"correct", "carried"}, \
        [(m.id, m.status, m.message) for m in asked.values() if m.status not in ("correct", "carried")]
    feedback = client.get(reverse("grading:submission", args=[sub.pk]))
    assert feedback.status_code == 200


def test_the_drawings_caption_says_the_batch_the_optimizer_and_the_softmax(world):
    spec_json = {**SOFTMAX_BATCH, "optimizer": {"kind": "momentum", "beta": 0.9}}
    assignment = make_assignment(course=world["course"], slug="caption", spec=spec_json, reveal="after_attempt")
    html = client_for(world["alice"]).get(reverse("grading:assignment", args=[assignment.pk])).content.decode()
    assert "The output layer is a softmax" in html
    assert "Each round feeds 2 samples, all at the weights the round started with" in html
    assert "uses the mean of their gradients" in html
    assert "Update rule: momentum (Mitchell&#x27;s form)" in html or "Update rule: momentum (Mitchell's form)" in html
    assert "beta = 0.9" in html


def test_the_staff_key_shows_a_batch_rounds_sample_cells(world):
    """The staff key of Deep-ML 25's full batch lists each sample's cells by their names."""
    t = template("deep-ml-25-full-batch")
    assignment = make_assignment(course=world["course"], slug="library", spec=t.spec_json, reveal="after_attempt")
    key = client_for(world["teacher"]).get(reverse("grading:key", args=[assignment.pk]))
    assert key.status_code == 200
    html = key.content.decode()
    assert "dL/dw<sub>11</sub>(3)" in html  # the label carries the sample, as the name does
    assert ">0.103574<" in html and ">-0.142544<" in html  # round 2's updated w11, w21: 0.1036, -0.1425
