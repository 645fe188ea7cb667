"""The pages of an assignment with a hidden layer, through Django's client: entry tables by
layer, the drawing, Q1, submit and feedback, the key, analytics and the formula preview."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.factories import make_assignment, report_of
from tests.test_marking_layers import HIDDEN, work
from tests.test_views import CORRECT_BADGE, INCORRECT_BADGE
from tests.webtools import client_for, submit

pytestmark = pytest.mark.django_db


@pytest.fixture
def hidden(world):
    return make_assignment(course=world["course"], slug="hidden", spec=HIDDEN, reveal="after_attempt",
                           max_attempts=1)


def typed_values(**change: str) -> dict[str, str]:
    """Rounds 1 and 2 as a careful student types them, by input name."""
    values = {f"r{r}.{column}.{name}": text for (r, column, name), text in work(HIDDEN).items() if r <= 2}
    return {**values, **change}


def test_the_page_asks_for_every_layers_cells_in_bands(world, hidden):
    """Bands per layer, inputs named r1.forward.s1[2], labels s₁^[2], Q1 rows with layers, the
    drawing with w_ij^[l] on its edges, and the preview told the layer sizes."""
    html = client_for(world["alice"]).get(reverse("grading:assignment", args=[hidden.pk])).content.decode()
    # Each round is a table per column; a band heads a layer's cells in every column that has some.
    assert html.count("Layer 1 (hidden)") == 16 and html.count("Layer 2 (output)") == 16
    assert html.count(">Loss<") == 8  # y in Parameters, y − f and L in Forward pass
    assert 'aria-label="Round 2, forward pass, layer 1, s1"' in html
    assert 'aria-label="Round 2, updated parameters, layer 2, w12"' in html
    for name in ("r1.forward.s1[2]", "r1.backward.dL/df2[1]", "r1.updated.w21[1]", "r2.parameters.b2[2]",
                 "formulas.dL/df1[1]", "formulas.L"):
        assert f'name="{name}"' in html, name
    assert 'name="r1.parameters.w11[1]"' not in html  # round 1's parameters are given
    assert "s<sub>1</sub><sup>[2]</sup>" in html and "dL/dw<sub>21</sub><sup>[1]</sup>" in html
    assert "(y<sub>1</sub> − f<sub>1</sub><sup>[2]</sup>)<sup>2</sup>" in html
    assert 'w<tspan baseline-shift="sub" font-size="10">21</tspan><tspan dy="-6" font-size="9">[2]</tspan>' in html
    assert "sizes=2-2-2" in html and "Type the layer in brackets after a name" in html
    assert "w<sub>12</sub><sup>[2]</sup></th><td class=\"num\">0.6</td>" in html


def test_submit_and_feedback_with_a_slip_in_the_hidden_layer(world, hidden):
    """Two rounds typed with one slip in round 1's hidden f1[1]: the feedback marks that cell
    wrong, carries what follows, names the cells with their layers and shows the loss plot."""
    slipped = work(HIDDEN, slip=((1, "forward", "f1[1]"), 0.001))  # one digit: an honest slip
    values = {f"r{r}.{column}.{name}": text for (r, column, name), text in slipped.items() if r <= 2}
    values["formulas.dL/df1[1]"] = "w11[2]*dL/ds1[2] + w12[2]*dL/ds2[2]"
    client = client_for(world["alice"])
    sub = submit(client, hidden, values)
    report = report_of(sub)
    marks = {m.id: m for m in report.cells}
    assert marks["r1.forward.f1[1]"].status == "incorrect"
    assert [m.id for m in report.cells if m.status not in ("correct", "carried", "blank")] == ["r1.forward.f1[1]"]
    assert marks["r1.forward.s1[2]"].status == "carried" and (marks["r1.forward.s1[2]"].layer,
                                                              marks["r1.forward.s1[2]"].quantity) == (2, "s")
    assert report.formula("dL/df1[1]").status == "correct"
    html = client.get(sub.get_absolute_url()).content.decode()
    assert INCORRECT_BADGE in html and CORRECT_BADGE in html and "carried" in html
    assert "correct given your f1[1] = " in html
    assert "dL/df<sub>1</sub><sup>[1]</sup> =" in html
    assert "<msubsup>" in html  # the formula as understood, in MathML
    plot = client.get(reverse("grading:submission_loss_plot", args=[sub.pk]))
    assert plot.status_code == 200 and b"<svg" in plot.content


def test_staff_key_analytics_and_heatmap(world, hidden):
    """The key page lists the layered reference formulas and values; analytics and its plots draw."""
    submit(client_for(world["alice"]), hidden, typed_values())
    staff = client_for(world["teacher"])
    key = staff.get(reverse("grading:key", args=[hidden.pk])).content.decode()
    assert "<code>w11[2] * dL/ds1[2] + w12[2] * dL/ds2[2]</code>" in key
    assert "dL/df<sub>1</sub><sup>[1]</sup> =" in key and "Layer 2 (output)" in key
    assert "Only one path in a hidden dL/df" in key  # the mistakes this network can show
    assert "w12 and w21 swapped" in key
    assert staff.get(reverse("grading:analytics", args=[hidden.pk])).status_code == 200
    for kind in ("heatmap", "mistakes", "scores"):
        response = staff.get(reverse("grading:analytics_plot", args=[hidden.pk, kind]))
        assert response.status_code == 200 and response["Content-Type"] == "image/svg+xml", kind
    heatmap = staff.get(reverse("grading:analytics_plot", args=[hidden.pk, "heatmap"])).content.decode()
    assert "dL/dw22[1]" in heatmap and "new w12[2]" in heatmap


def test_the_formula_preview_knows_the_layers(world):
    """With sizes=2-2-2 the preview reads s1[2] (MathML with its layer) and says why s1 is not
    a name; without sizes it keeps Homework 4.1's names."""
    client = client_for(world["alice"])
    url = reverse("grading:formula_preview")
    layered = client.get(url, {"text": "dL/ds1[2]*f1[1]", "sizes": "2-2-2"}).json()
    assert layered["error"] == "" and "<msubsup>" in layered["mathml"]
    bare = client.get(url, {"text": "s1 + 1", "sizes": "2-2-2"}).json()
    assert bare["mathml"] == "" and "write the layer in brackets" in bare["error"]
    single = client.get(url, {"text": "s1 + 1", "n": "2", "m": "2"}).json()
    assert single["error"] == "" and "<msub>" in single["mathml"]
    odd = client.get(url, {"text": "s1 + 1", "sizes": "2-x"}).json()
    assert odd["error"] == ""  # a bad size falls back to 2×2, never a 500
