"""What only a browser shows: autosave, values kept over a reload, submit, score and plot.

Real headless Chromium (Debian's /usr/bin/chromium) through Playwright's sync API against
pytest-django's live server. Without a Chromium binary the tests are skipped with the reason,
except in CI (the CI variable set), where they fail instead.
"""
from __future__ import annotations

import os
import re
import shutil
from contextlib import contextmanager

import pytest

from grading.models import Submission
from grading.templatetags.grading_tags import points
from tests.factories import PASSWORD, make_assignment, make_course, make_member, report_of, round1_values

pytestmark = pytest.mark.browser

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def chromium_path() -> str | None:
    found = shutil.which("chromium")
    if found:
        return found
    return "/usr/bin/chromium" if os.path.exists("/usr/bin/chromium") else None


@contextmanager
def chromium_tab(live_server, settings, monkeypatch, *, also: tuple[str, ...] = (), timeout: int = 10_000):
    """A fresh Chromium page against the live server; every request it makes must go to the live
    server (or to an origin in ``also``, such as a simulated LMS on another port)."""
    binary = chromium_path()
    if binary is None:
        reason = "no Chromium binary found (install Debian's chromium: apt-get install chromium)"
        if os.environ.get("CI"):
            pytest.fail(reason + "; in CI the browser tests must run")
        print(reason)
        pytest.skip(reason)
    # The live server speaks plain http: cookies marked Secure and the HTTPS redirect are for production.
    settings.SESSION_COOKIE_SECURE = False
    settings.CSRF_COOKIE_SECURE = False
    settings.SECURE_SSL_REDIRECT = False
    # Playwright's sync API runs an event loop in this thread; the test's own ORM calls are
    # synchronous and safe here. Set for these tests only: elsewhere Django's check must hold.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    allowed = (live_server.url, "data:", *also)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=binary, args=CHROMIUM_ARGS)
        context = browser.new_context()
        tab = context.new_page()
        tab.set_default_timeout(timeout)
        outside = []
        tab.on("request", lambda r: None if r.url.startswith(allowed) else outside.append(r.url))
        yield tab
        context.close()
        browser.close()
        assert outside == [], f"requests left the server: {outside}"


@pytest.fixture
def page(live_server, transactional_db, settings, monkeypatch):
    """A fresh Chromium page; every request it makes must go to the live server."""
    with chromium_tab(live_server, settings, monkeypatch) as tab:
        yield tab


def log_in(page, live_server, username: str) -> None:
    page.goto(live_server.url + "/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click('main form[action="/accounts/login/"] button[type=submit]')  # not the navbar's Log out
    page.wait_for_url(live_server.url + "/")


def field(name: str) -> str:
    return f'[name="{name}"]'


def submit_attempt(page) -> None:
    """Press Submit and confirm in the page's dialog (counts of blank and invalid cells)."""
    page.click('button[value="submit"]')
    page.click("#submit-dialog-confirm")


def test_student_fills_round_1_autosaves_reloads_submits_and_sees_score_and_plot(page, live_server):
    """A student types round 1; autosave confirms; a reload keeps it; Submit shows score and plot."""
    from playwright.sync_api import expect

    course = make_course()
    student = make_member(course=course, username="student1")
    assignment = make_assignment(course=course, reveal="after_attempt")
    values = round1_values()

    log_in(page, live_server, "student1")
    page.click(f'a[href="/assignments/{assignment.pk}/"]')
    for name, value in values.items():
        page.fill(field(name), value)
    expect(page.locator("#autosave-status")).to_have_text(re.compile(r"^Saved \d\d:\d\d:\d\d UTC\+07$"))
    draft = Submission.objects.get(assignment=assignment, student=student)
    assert draft.is_draft and draft.answers["rounds"][0]["forward"]["s1"] == values["r1.forward.s1"]

    page.reload()
    for name in ("r1.forward.s1", "r1.backward.dL/dw22", "r1.updated.b2"):
        assert page.input_value(field(name)) == values[name]
    expect(page.locator("#autosave-notice")).to_be_hidden()

    submit_attempt(page)
    page.wait_for_url(re.compile(r"/submissions/\d+/$"))
    expect(page.locator("#total-score")).to_contain_text("Score:")
    submission = Submission.objects.get(assignment=assignment, student=student, attempt=1)
    assert not submission.is_draft
    score = report_of(submission).total
    assert f"Score: {points(score)} / 100" in page.inner_text("#total-score")
    assert score >= 35  # round 1 typed to 4 places is fully correct
    page.wait_for_function(
        "() => { const i = document.querySelector('#loss-plot img');"
        " return i && i.complete && i.naturalWidth > 0; }")


def test_unsaved_typing_survives_a_failed_autosave_and_is_restored(page, live_server):
    """When the server cannot be reached, the local copy comes back after a reload, with a notice."""
    from playwright.sync_api import expect

    course = make_course()
    student = make_member(course=course, username="student2")
    assignment = make_assignment(course=course)

    log_in(page, live_server, "student2")
    page.goto(f"{live_server.url}/assignments/{assignment.pk}/")
    page.route("**/draft/", lambda route: route.abort())
    page.fill(field("r1.forward.s1"), "0.4600")
    expect(page.locator("#autosave-status")).to_contain_text("Not saved")
    assert not Submission.objects.filter(student=student).exists()

    page.unroute("**/draft/")
    page.reload()
    assert page.input_value(field("r1.forward.s1")) == "0.4600"
    expect(page.locator("#autosave-notice")).to_contain_text("Restored what you typed")
    expect(page.locator("#autosave-status")).to_have_text(re.compile(r"^Saved "))
    draft = Submission.objects.get(student=student)
    assert draft.answers["rounds"][0]["forward"]["s1"] == "0.4600"


def test_a_cell_that_is_not_a_number_is_flagged_before_submitting(page, live_server):
    """After autosave, "0,46" is marked with the server's message; fixing it clears the mark."""
    from playwright.sync_api import expect

    course = make_course()
    make_member(course=course, username="student1")
    assignment = make_assignment(course=course)
    log_in(page, live_server, "student1")
    page.goto(f"{live_server.url}/assignments/{assignment.pk}/")
    page.fill(field("r1.forward.s1"), "0,46")
    problem = page.locator('[data-problem-for="r1.forward.s1"]')
    expect(problem).to_have_text("use a point for decimals, not a comma")
    expect(page.locator(field("r1.forward.s1"))).to_have_class(re.compile(r"\bis-invalid\b"))
    page.fill(field("r1.forward.s1"), "0.46")
    expect(page.locator("#autosave-status")).to_have_text(re.compile(r"^Saved "))
    expect(problem).to_have_text("")
    expect(page.locator(field("r1.forward.s1"))).not_to_have_class(re.compile(r"\bis-invalid\b"))


def test_log_out_forgets_saved_local_copies_but_keeps_unsaved_work(page, live_server):
    """On a shared computer, log out removes drafts the server has; unsaved typing stays."""
    from playwright.sync_api import expect

    course = make_course()
    student = make_member(course=course, username="student1")
    saved = make_assignment(course=course, slug="saved")
    unsaved = make_assignment(course=course, slug="unsaved")
    log_in(page, live_server, "student1")
    page.goto(f"{live_server.url}/assignments/{saved.pk}/")
    page.fill(field("r1.forward.s1"), "0.4600")
    expect(page.locator("#autosave-status")).to_have_text(re.compile(r"^Saved "))
    page.goto(f"{live_server.url}/assignments/{unsaved.pk}/")
    page.route("**/draft/", lambda route: route.abort())
    page.fill(field("r1.forward.s1"), "0.4611")
    expect(page.locator("#autosave-status")).to_contain_text("Not saved")
    key = "backprop:draft:{}:{}".format
    assert page.evaluate("k => localStorage.getItem(k) !== null", key(student.pk, saved.pk))
    page.click("#logout-form button[type=submit]")
    page.wait_for_url(re.compile(r"/accounts/login/"))
    assert page.evaluate("k => localStorage.getItem(k)", key(student.pk, saved.pk)) is None
    kept = page.evaluate("k => JSON.parse(localStorage.getItem(k))", key(student.pk, unsaved.pk))
    assert kept["dirty"] is True and kept["values"]["r1.forward.s1"] == "0.4611"


# ------------------------------------------------------------------ CSP, sessions, body limits

WATCH_CSP = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__cspViolations.push(e.violatedDirective + " blocked " + (e.blockedURI || "inline") +
                              " at " + e.sourceFile + ":" + e.lineNumber);
});
"""


def watch(page) -> list[str]:
    """Every console message, page error and CSP violation of this tab, as text."""
    seen: list[str] = []
    page.add_init_script(WATCH_CSP)
    page.on("console", lambda m: seen.append(f"console {m.type}: {m.text}"))
    page.on("pageerror", lambda e: seen.append(f"page error: {e}"))
    return seen


def visit(page, url: str, seen: list[str]) -> None:
    """Open a page, let it settle, and record the CSP violations it reported."""
    page.goto(url)
    page.wait_for_load_state("networkidle")
    seen += [f"{url}: CSP {v}" for v in page.evaluate("window.__cspViolations")]


def test_no_page_breaks_the_content_security_policy_or_logs_to_the_console(page, live_server):
    """Student, staff and admin pages (with autosave, formula preview and plots working) raise no
    CSP violation and no console message."""
    from django.contrib.auth import get_user_model
    from playwright.sync_api import expect

    from grading.models import Membership

    seen = watch(page)
    course = make_course()
    make_member(course=course, username="student1")
    make_member(course=course, username="teacher", role=Membership.Role.INSTRUCTOR)
    get_user_model().objects.create_superuser("root", "root@example.org", PASSWORD)
    assignment = make_assignment(course=course, reveal="after_attempt")
    base = live_server.url

    visit(page, base + "/accounts/login/", seen)
    log_in(page, live_server, "student1")
    visit(page, base + "/", seen)
    visit(page, f"{base}/assignments/{assignment.pk}/", seen)
    page.fill(field("r1.forward.s1"), "0.4600")
    page.fill(field("formulas.s1"), "w11*x1 + w21*x2 + b1")
    expect(page.locator('[data-preview-for="formulas.s1"] math')).to_have_count(1)
    expect(page.locator("#autosave-status")).to_have_text(re.compile(r"^Saved "))
    seen += [f"assignment: CSP {v}" for v in page.evaluate("window.__cspViolations")]
    submit_attempt(page)
    page.wait_for_url(re.compile(r"/submissions/\d+/$"))
    feedback = page.url
    visit(page, feedback, seen)
    page.click("#logout-form button[type=submit]")
    page.wait_for_url(re.compile(r"/accounts/login/"))

    log_in(page, live_server, "teacher")
    for url in ("/", f"/assignments/{assignment.pk}/", f"/assignments/{assignment.pk}/gradebook/",
                f"/assignments/{assignment.pk}/key/", f"/assignments/{assignment.pk}/analytics/",
                feedback.removeprefix(base)):
        visit(page, base + url, seen)
    page.click("#logout-form button[type=submit]")
    page.wait_for_url(re.compile(r"/accounts/login/"))

    visit(page, base + "/admin/login/", seen)
    page.fill("#id_username", "root")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(base + "/admin/")
    for url in ("/admin/", "/admin/grading/submission/", "/admin/grading/assignment/",
                f"/admin/grading/assignment/{assignment.pk}/change/",
                f"/admin/grading/course/{course.pk}/change/", "/admin/grading/membership/add/"):
        visit(page, base + url, seen)
    assert seen == []


def test_autosave_and_submit_survive_logging_in_again_in_another_tab(page, live_server):
    """After a re-login in a second tab, typing in the first tab saves and its Submit is graded."""
    from playwright.sync_api import expect

    course = make_course()
    student = make_member(course=course, username="student1")
    assignment = make_assignment(course=course)
    token_fetches = []
    page.on("request", lambda r: token_fetches.append(r.url) if r.url.endswith("/csrf/") else None)

    log_in(page, live_server, "student1")
    page.goto(f"{live_server.url}/assignments/{assignment.pk}/")
    second = page.context.new_page()
    log_in(second, live_server, "student1")  # rotates the session's CSRF token
    second.close()

    page.fill(field("r1.forward.s1"), "0.4600")
    expect(page.locator("#autosave-status")).to_have_text(re.compile(r"^Saved \d\d:\d\d:\d\d UTC\+07$"))
    assert Submission.objects.get(student=student).answers["rounds"][0]["forward"]["s1"] == "0.4600"
    assert token_fetches, "the stale token was never refreshed"
    page.fill(field("r1.forward.s2"), "0.5300")
    submit_attempt(page)
    page.wait_for_url(re.compile(r"/submissions/\d+/$"))
    expect(page.locator("#total-score")).to_contain_text("Score:")
    attempt = Submission.objects.get(student=student, attempt=1)
    assert not attempt.is_draft
    assert attempt.answers["rounds"][0]["forward"]["s2"] == "0.5300"


def test_after_a_csrf_failure_reloading_the_page_puts_back_what_was_typed(page, live_server):
    """When the token cannot be refreshed, the CSRF page says what happened and nothing typed is lost."""
    from playwright.sync_api import expect

    course = make_course()
    student = make_member(course=course, username="student1")
    assignment = make_assignment(course=course)
    log_in(page, live_server, "student1")
    page.goto(f"{live_server.url}/assignments/{assignment.pk}/")
    page.route("**/csrf/", lambda route: route.abort())   # no fresh token to be had
    page.route("**/draft/", lambda route: route.abort())  # and the draft never reaches the server
    second = page.context.new_page()
    log_in(second, live_server, "student1")
    second.close()

    page.fill(field("r1.forward.s1"), "0.4611")
    submit_attempt(page)
    expect(page.locator("#error-message")).to_contain_text(
        "You logged in again (or logged out) in another tab, so this page's security token expired.")
    expect(page.locator("#error-message")).to_contain_text("Your answers are kept in this browser")
    assert not Submission.objects.filter(student=student).exists()

    page.unroute("**/draft/")
    page.click("#error-back")
    page.wait_for_url(f"{live_server.url}/assignments/{assignment.pk}/")
    assert page.input_value(field("r1.forward.s1")) == "0.4611"
    expect(page.locator("#autosave-notice")).to_contain_text("Restored what you typed")
    expect(page.locator("#autosave-status")).to_have_text(re.compile(r"^Saved "))
    assert Submission.objects.get(student=student).answers["rounds"][0]["forward"]["s1"] == "0.4611"


COUNT_DRAFT_POSTS = """
window.__draftPosts = 0;
const realFetch = window.fetch;
window.fetch = function (url, options) {
  if (String(url).endsWith("/draft/")) { window.__draftPosts += 1; }
  return realFetch.apply(this, arguments);
};
"""


def test_a_body_too_large_is_shown_once_and_not_sent_again(page, live_server, settings):
    """A 413 from autosave shows the server's message; the same answers are never re-posted, an edit is."""
    from playwright.sync_api import expect

    course = make_course()
    student = make_member(course=course, username="student1")
    assignment = make_assignment(course=course)
    log_in(page, live_server, "student1")
    page.add_init_script(COUNT_DRAFT_POSTS)
    page.clock.install()
    page.goto(f"{live_server.url}/assignments/{assignment.pk}/")
    # A save sends the token, its base version and the fields changed (issue 18): room for a
    # short formula, not for a long one.
    empty = page.evaluate("new URLSearchParams({csrfmiddlewaretoken: document.querySelector("
                          "'#answer-form [name=csrfmiddlewaretoken]').value, base: '0'}).toString().length")
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = empty + 150

    page.fill(field("formulas.s1"), "x1+" * 100 + "x1")  # about 300 characters more
    status = page.locator("#autosave-status")
    expect(status).to_contain_text("This was not saved: it is larger than")
    assert page.evaluate("window.__draftPosts") == 1
    page.clock.run_for(10 * 60 * 1000)  # ten minutes of timers: any retry would have fired
    assert page.evaluate("window.__draftPosts") == 1
    expect(status).to_contain_text("This was not saved: it is larger than")
    assert not Submission.objects.filter(student=student).exists()

    page.fill(field("formulas.s1"), "w11*x1 + w21*x2 + b1")  # an edit: a new body, which fits
    page.clock.run_for(2000)
    expect(status).to_have_text(re.compile(r"^Saved "))
    assert page.evaluate("window.__draftPosts") == 2
    assert Submission.objects.get(student=student).answers["formulas"]["s1"] == "w11*x1 + w21*x2 + b1"


def test_submit_disables_its_buttons_while_sending_and_keeps_the_action(page, live_server):
    """Pressing Submit disables the buttons and says "Submitting…", and the action still goes
    with the post (a disabled button is not sent): a second click cannot send it again. The
    post itself is stopped here, after the page's own handlers ran."""
    course = make_course()
    make_member(course=course, username="clicker")
    assignment = make_assignment(course=course)
    log_in(page, live_server, "clicker")
    page.goto(f"{live_server.url}/assignments/{assignment.pk}/")
    page.fill(field("r1.forward.s1"), "0.4600")
    state = page.evaluate("""() => {
        const form = document.getElementById("answer-form");
        const button = form.querySelector('button[value="submit"]');
        window.addEventListener("submit", (e) => e.preventDefault());  // after the form's handlers
        form.dataset.tokenFresh = "1";  // as the CSRF refresh leaves it just before sending
        form.requestSubmit(button);
        const carried = form.querySelector("input[data-carried]");
        return {disabled: [...form.querySelectorAll('button[type="submit"]')].map((b) => b.disabled),
                label: button.textContent, action: carried && [carried.name, carried.value]};
    }""")
    assert state == {"disabled": [True, True], "label": "Submitting…", "action": ["action", "submit"]}


def test_student_walks_the_hidden_layer_demo(page, live_server):
    """The demo's hidden-layer homework: a student logs in, sees the layered drawing and tables,
    types every cell of the four rounds and two Q1 rows (the preview draws s₁^[2]), submits and
    reads full marks on the tables, the Q1 verdicts and the layered cell names."""
    from django.core.management import call_command
    from playwright.sync_api import expect

    from grading.models import Assignment
    from tests.test_marking_layers import HIDDEN, work

    call_command("seed_demo", force=True)
    demo = Assignment.objects.get(slug="hidden-layer")
    assert demo.spec == HIDDEN
    page.goto(live_server.url + "/accounts/login/")
    page.fill("#id_username", "student1")
    page.fill("#id_password", "demo-student-41")
    page.click('main form[action="/accounts/login/"] button[type=submit]')  # not the header's language switch
    page.wait_for_url(live_server.url + "/")
    page.click(f'a[href="/assignments/{demo.pk}/"]')
    expect(page.locator("svg.network")).to_contain_text("[2]")
    expect(page.locator(".layer-band").first).to_have_text("Layer 1 (hidden)")
    typed = work(HIDDEN)
    for (r, column, name), text in typed.items():
        if column != "parameters" or r > 1:
            page.fill(field(f"r{r}.{column}.{name}"), text)
    page.fill(field("formulas.s1[2]"), "w11[2]*f1[1] + w21[2]*f2[1] + b1[2]")
    page.fill(field("formulas.dL/df1[1]"), "w11[2]*dL/ds1[2] + w12[2]*dL/ds2[2]")
    preview = page.locator('[data-preview-for="formulas.dL/df1[1]"] math msubsup')
    expect(preview.first).to_be_visible()
    expect(page.locator("#autosave-status")).to_have_text(re.compile(r"^Saved \d\d:\d\d:\d\d UTC\+07$"))

    submit_attempt(page)
    page.wait_for_url(re.compile(r"/submissions/\d+/$"))
    expect(page.locator("#total-score")).to_contain_text("Score:")
    scores = page.locator("#question-scores tbody tr")
    for k in range(1, 5):  # Q2..Q5, the four round tables
        expect(scores.nth(k).locator("td").nth(1)).to_have_text("35")
    rows = page.locator("#formulas tbody tr")
    expect(rows.filter(has_text="dL/df1[1] =")).to_contain_text("correct")
    expect(rows.filter(has_text=re.compile(r"^\s*s1\[2\] ="))).to_contain_text("correct")
    cell = page.locator('[id="cell-r3.backward.dL/dw21[1]"]')
    expect(cell).to_contain_text("dL/dw21[1]")
    expect(cell.locator(".status-badge")).to_contain_text(re.compile("correct|carried"))
    submission = Submission.objects.get(assignment=demo, attempt=1)
    report = report_of(submission)
    assert {c.status for c in report.cells} <= {"correct", "carried"}
    assert report.formula("dL/df1[1]").status == "correct"


def test_a_busy_server_defers_an_autosave_and_the_page_waits_as_told_then_saves(page, live_server, settings):
    """One app server serving both lanes answers a queued autosave 503 + Retry-After
    (grading/middleware.py): the page says the answers are kept, sends nothing before the time it
    was given, however much is typed, then saves everything."""
    import time

    from playwright.sync_api import expect

    course = make_course()
    student = make_member(course=course, username="student3")
    assignment = make_assignment(course=course)
    settings.TRUST_X_REQUEST_START = True
    settings.TRUSTED_PROXIES = ["127.0.0.1/32", "::1/128"]
    log_in(page, live_server, "student3")
    page.goto(f"{live_server.url}/assignments/{assignment.pk}/")
    sent: list[float] = []

    def as_if_queued(route):
        """What the proxy would add to an autosave that waited 30 s in the background lane."""
        sent.append(time.monotonic())
        route.continue_(headers={**route.request.headers, "x-lane": "background",
                                 "x-request-start": f"t={time.time() - 30:.3f}"})

    page.route("**/draft/", as_if_queued)
    page.fill(field("r1.forward.s1"), "0.4600")
    expect(page.locator("#autosave-status")).to_contain_text("Server busy")
    expect(page.locator("#autosave-status")).to_contain_text("kept in this browser")
    expect(page.locator("#autosave-status")).to_have_attribute("data-state", "busy")  # a line of its own
    assert not Submission.objects.filter(student=student).exists()
    page.fill(field("r1.forward.f1"), "0.6130")  # typing on: still nothing sent before Retry-After
    page.wait_for_timeout(2000)
    assert len(sent) == 1
    page.unroute("**/draft/")  # the queue is short again
    expect(page.locator("#autosave-status")).to_have_text(re.compile(r"^Saved "), timeout=15_000)
    draft = Submission.objects.get(student=student)
    assert draft.answers["rounds"][0]["forward"]["s1"] == "0.4600"
    assert draft.answers["rounds"][0]["forward"]["f1"] == "0.6130"
