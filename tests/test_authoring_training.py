"""The authoring page and issue 20: the batch, reduction, update rule and softmax fields make the
spec they say, and the "start from" list opens the library's audited templates."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils.html import escape

from grading.engine import parse_spec
from grading.engine.grids import grids_of
from grading.keyaudit.library import template, templates
from grading.models import Assignment
from grading.services.authoring import assignment_publish
from tests.test_authoring import post
from tests.webtools import client_for

pytestmark = pytest.mark.django_db


def _post_data(spec_json: dict, **settings: str) -> dict[str, str]:
    from grading.authoring_form import initial_of
    data = initial_of(grids_of(spec_json), {"title": "Trained", "slug": "trained", "statement": "",
                                             "opens_at": "2026-11-16T08:00", "due_at": "2026-11-30T08:00",
                                             "accept_late": "", "decimals": 4, "max_attempts": 3,
                                             "reveal": "after_due", "carried_credit": 1, "carried_cap": 1,
                                             "not_chained_credit": 0.5, "unexplained_roots": "review",
                                             "grace_seconds": 120, "auto_submit": "", "practice": ""})
    out = {k: ("on" if v is True else "" if v in (False, None) else str(v)) for k, v in data.items()}
    out.update(settings)
    out["action"] = "save"
    return out


@pytest.mark.parametrize("slug", ["softmax-classifier-2-3", "deep-ml-25-full-batch", "mazur-2-2-2",
                                  "mitchell-4.7-momentum", "han-kamber-3-2-1"])
def test_a_library_template_saved_from_the_page_keeps_its_spec(world, slug):
    """Open the page from the template, save it as it stands: the assignment's spec means the
    template's (batch, reduction, optimizer, softmax and all). Mitchell's and Han & Kamber's,
    whose inputs include 0, save as printed too."""
    client = client_for(world["teacher"])
    url = reverse("grading:assignment_new", args=[world["course"].code])
    page = client.get(url + f"?template={slug}")
    assert page.status_code == 200
    html = page.content.decode()
    assert escape(template(slug).title) in html and "Start from a worked example of the library" in html
    response = post(client, url + f"?template={slug}", _post_data(template(slug).spec_json))
    assert response.status_code == 302, response.content.decode()[:3000]
    saved = Assignment.objects.get(slug="trained")
    assert parse_spec(saved.spec) == template(slug).spec


def test_the_start_from_list_names_every_template_and_an_unknown_one_is_404(world):
    client = client_for(world["teacher"])
    url = reverse("grading:assignment_new", args=[world["course"].code])
    html = client.get(url).content.decode()
    for t in templates():
        assert f'href="?template={t.slug}"' in html
    assert client.get(url + "?template=nope").status_code == 404


def test_an_optimizer_setting_that_is_not_a_number_is_refused_on_its_field(world):
    client = client_for(world["teacher"])
    url = reverse("grading:assignment_new", args=[world["course"].code])
    response = post(client, url, _post_data(template("mitchell-4.7-momentum").spec_json, beta="0,9"))
    assert response.status_code == 400
    html = response.content.decode()
    assert 'data-error-for="beta">Type a number, such as 0.9.' in html
    assert not Assignment.objects.filter(slug="trained").exists()


def test_a_softmax_hidden_layer_is_refused_with_the_engines_message(world):
    client = client_for(world["teacher"])
    url = reverse("grading:assignment_new", args=[world["course"].code])
    spec = template("mazur-2-2-2").spec_json
    response = post(client, url, _post_data(spec, activation_1="softmax"))
    assert response.status_code == 400
    assert "only the output layer may be softmax" in response.content.decode()


def test_mitchells_zero_inputs_make_given_gradients_on_the_students_page(world):
    """Mitchell's examples (1, 0) and (0, 1) make dL/dw21[1] (round 1) and dL/dw11[1] (round 2)
    exactly 0: saved from the template, the student's page shows them as given 0s without an
    input (nobody types them, nobody earns marks for them); every other gradient is typed.
    (Before, issue 9's rule refused to save the template for those two cells.)"""
    client = client_for(world["teacher"])
    url = reverse("grading:assignment_new", args=[world["course"].code])
    response = post(client, url + "?template=mitchell-4.7-momentum",
                    _post_data(template("mitchell-4.7-momentum").spec_json, opens_at="2026-11-01T08:00"))
    assert response.status_code == 302, response.content.decode()[:3000]
    assignment = Assignment.objects.get(slug="trained")
    assignment_publish(assignment, by=world["teacher"], reason="open it")
    page = client_for(world["alice"]).get(assignment.get_absolute_url())
    assert page.status_code == 200
    html = page.content.decode()
    assert 'name="r1.backward.dL/dw11[1]"' in html and 'name="r2.backward.dL/dw21[1]"' in html
    assert 'name="r1.backward.dL/dw21[1]"' not in html and 'name="r2.backward.dL/dw11[1]"' not in html
