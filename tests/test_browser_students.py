"""Students first, in a real browser: spreadsheet-like entry, the submit confirmation, tables a
screen reader can read (axe-core on every page), a phone, and a Thai student's whole walk.

Expected values come from the homework's printed key (tests/data) or are computed here.
"""
from __future__ import annotations

import re

import pytest

from grading import selectors
from grading.models import Membership, Submission
from tests.factories import make_assignment, make_course, make_member, report_of, round1_values
from tests.test_browser import field, log_in, page  # noqa: F401 - the Chromium page fixture

pytestmark = pytest.mark.browser

FORWARD = ("s1", "s2", "f1", "f2", "y1-f1", "y2-f2", "(y1-f1)^2", "(y2-f2)^2", "L")
BACKWARD = ("dL/df1", "dL/df2", "dL/ds1", "dL/ds2", "dL/db1", "dL/db2", "dL/dw11", "dL/dw21", "dL/dw12", "dL/dw22")
UPDATED = ("w11", "w12", "w21", "w22", "b1", "b2")


def paste(page, name: str, text: str) -> None:
    """Paste ``text`` into the input ``name`` as the clipboard brings it (a paste event)."""
    page.locator(field(name)).focus()
    page.evaluate("""([name, text]) => {
        const input = document.querySelector(`[name="${CSS.escape(name)}"]`);
        const data = new DataTransfer();
        data.setData("text/plain", text);
        input.dispatchEvent(new ClipboardEvent("paste", {clipboardData: data, bubbles: true, cancelable: true}));
    }""", [name, text])


def open_assignment(page, live_server, username: str = "student1", **kwargs):
    course = make_course()
    student = make_member(course=course, username=username)
    assignment = make_assignment(course=course, **kwargs)
    log_in(page, live_server, username)
    page.goto(f"{live_server.url}/assignments/{assignment.pk}/")
    return student, assignment


def saved(page) -> None:
    from playwright.sync_api import expect

    expect(page.locator("#autosave-status")).to_have_text(re.compile(r"^Saved \d\d:\d\d:\d\d UTC\+07$"))


# ------------------------------------------------------------------ spreadsheet-like entry


def test_a_pasted_spreadsheet_column_fills_the_column_and_is_autosaved(page, live_server):
    """Nine values copied from a sheet's column (\\r\\n, a trailing newline) pasted into s1 fill
    s1 … L, the round says so, and the draft holds every one of them."""
    from playwright.sync_api import expect

    student, _ = open_assignment(page, live_server)
    values = round1_values()
    column = [values[f"r1.forward.{n}"] for n in FORWARD]
    paste(page, "r1.forward.s1", "\r\n".join(column) + "\r\n")
    for name, value in zip(FORWARD, column):
        expect(page.locator(field(f"r1.forward.{name}"))).to_have_value(value)
    expect(page.locator("#round-1-status")).to_have_text("9 values pasted into s1 … L.")
    saved(page)
    draft = Submission.objects.get(student=student)
    assert draft.answers["rounds"][0]["forward"] == dict(zip(FORWARD, column))


def test_a_pasted_row_fills_across_and_extra_values_are_reported(page, live_server):
    """A tab-separated row pasted into round 2's s1 fills s1, dL/df1 and the updated w11; a
    fourth value has no column to go to and is named, not dropped silently."""
    from playwright.sync_api import expect

    open_assignment(page, live_server)
    paste(page, "r2.forward.s1", "0.1\t0.2\t0.3\t0.4")
    expect(page.locator(field("r2.forward.s1"))).to_have_value("0.1")
    expect(page.locator(field("r2.backward.dL/df1"))).to_have_value("0.2")
    expect(page.locator(field("r2.updated.w11"))).to_have_value("0.3")
    expect(page.locator("#round-2-status")).to_have_text(
        "3 values pasted into s1 … w11. 1 value had no cell to go to and was not pasted: 0.4.")


def test_a_pasted_block_fills_a_block_and_values_past_the_column_are_reported(page, live_server):
    """A 2×2 block fills two rows of two columns; a column longer than the table names what is left over."""
    from playwright.sync_api import expect

    open_assignment(page, live_server)
    paste(page, "r1.forward.L", "1.1\t2.1\n1.2\t2.2\n")  # L is the forward column's last row (row 8)
    expect(page.locator(field("r1.forward.L"))).to_have_value("1.1")
    expect(page.locator(field("r1.backward.dL/dw12"))).to_have_value("2.1")   # backward row 8
    expect(page.locator(field("r1.backward.dL/dw22"))).to_have_value("2.2")   # backward row 9
    expect(page.locator("#round-1-status")).to_have_text(
        "3 values pasted into L … dL/dw22. 1 value had no cell to go to and was not pasted: 1.2.")


def test_enter_and_the_arrow_keys_move_like_a_spreadsheet(page, live_server):
    """Enter goes down the column, the arrows up and down; left and right change column only at
    the caret's ends; Enter never submits the form."""
    open_assignment(page, live_server)
    focused = "() => document.activeElement.name"
    page.locator(field("r1.forward.s1")).click()
    page.keyboard.press("Enter")
    assert page.evaluate(focused) == "r1.forward.s2"
    page.keyboard.press("ArrowDown")
    assert page.evaluate(focused) == "r1.forward.f1"
    page.keyboard.type("0.62")
    page.keyboard.press("ArrowLeft")  # the caret moves inside the text first
    assert page.evaluate(focused) == "r1.forward.f1"
    page.keyboard.press("End")
    page.keyboard.press("ArrowRight")  # at the end: the next column, same row (row 2)
    assert page.evaluate(focused) == "r1.backward.dL/ds1"
    page.keyboard.press("ArrowLeft")  # the whole text is selected on arrival: not at the start
    page.keyboard.press("Home")
    page.keyboard.press("ArrowLeft")
    assert page.evaluate(focused) == "r1.forward.f1"
    page.keyboard.press("ArrowUp")
    assert page.evaluate(focused) == "r1.forward.s2"
    page.keyboard.press("Shift+Enter")
    assert page.evaluate(focused) == "r1.forward.s1"
    assert "/assignments/" in page.url and not Submission.objects.exclude(state=Submission.State.DRAFT).exists()


def test_a_round_is_copied_out_as_tab_separated_text(page, live_server):
    """The copy button puts the round's table on the clipboard: rows as lines, the four columns
    by tabs, given values and typed values in place."""
    from playwright.sync_api import expect

    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    open_assignment(page, live_server)
    page.fill(field("r2.forward.s1"), "0.6316")
    page.fill(field("r2.updated.b2"), "0.1063")
    page.click('[data-copy-round="2"]')
    expect(page.locator("#round-2-status")).to_have_text("Round 2 copied as tab-separated text (10 rows).")
    text = page.evaluate("navigator.clipboard.readText()")
    lines = text.split("\n")
    # Round 2's given values (samples[1]: x = 0.5, 0.7; y = 1, 0), then the typed ones.
    assert lines[0] == "0.5\t0.6316"  # x1, s1 (a line ends at its last value)
    assert lines[1:4] == ["0.7", "1", "0"]
    assert lines[5] == "\t\t\t0.1063"  # w12, y2 − f2, dL/db2 blank; b2 updated
    assert len(lines) == 11 and lines[10] == ""


# ------------------------------------------------------------------ submit with eyes open


def test_submit_asks_first_with_the_blank_and_invalid_cells_and_the_attempts_left(page, live_server):
    """Submit opens a dialog counting blank and invalid cells and the attempts left; "Keep
    editing" spends nothing; the dialog's Submit sends the attempt."""
    from playwright.sync_api import expect

    student, assignment = open_assignment(page, live_server)
    page.fill(field("r1.forward.s1"), "0.4600")
    page.fill(field("r1.forward.s2"), "0,92")
    expect(page.locator('[data-problem-for="r1.forward.s2"]')).to_have_text("use a point for decimals, not a comma")
    page.click('button[value="submit"]')
    dialog = page.locator("#submit-dialog")
    expect(dialog).to_be_visible()
    expect(dialog).to_have_attribute("open", "")
    total = len(selectors.typed_cells(assignment.parsed_spec))
    rows = len(selectors.formula_rows(assignment.parsed_spec))
    expect(page.locator("#submit-dialog-counts")).to_have_text(
        f"Blank cells: {total - 2} of {total}. Cells that are not numbers: 1. Blank Q1 rows: {rows} of {rows}.")
    expect(page.locator("#submit-dialog-invalid")).to_contain_text(
        "Round 1, forward pass, s2: use a point for decimals, not a comma")
    expect(page.locator("#submit-dialog-attempts")).to_have_text("After this you have 2 attempts left.")
    page.click("#submit-dialog-cancel")
    expect(dialog).to_be_hidden()
    assert not Submission.objects.filter(student=student).exclude(state=Submission.State.DRAFT).exists()

    page.keyboard.press("Escape")
    page.click('button[value="submit"]')
    page.click("#submit-dialog-confirm")
    page.wait_for_url(re.compile(r"/submissions/\d+/$"))
    attempt = Submission.objects.exclude(state=Submission.State.DRAFT).get(student=student)
    assert attempt.attempt == 1 and attempt.answers["rounds"][0]["forward"]["s2"] == "0,92"


# ------------------------------------------------------------------ accessibility


def accessible_inputs(page) -> list[tuple[str, str]]:
    """(role, accessible name) of every text field, combo box and spin button, from Chromium's
    own accessibility tree."""
    cdp = page.context.new_cdp_session(page)
    tree = cdp.send("Accessibility.getFullAXTree")["nodes"]
    cdp.detach()
    out = []
    for node in tree:
        role = (node.get("role") or {}).get("value")
        if role in ("textbox", "combobox", "spinbutton", "searchbox") and not node.get("ignored"):
            out.append((role, (node.get("name") or {}).get("value", "")))
    return out


def check_axe(page, url: str, problems: list[str]) -> None:
    """axe-core's serious and critical violations of the page, and inputs without a name of
    their own; no request leaves the server while axe runs."""
    from axe_playwright_python.sync_playwright import Axe

    page.goto(url)
    page.wait_for_load_state("networkidle")
    requests: list[str] = []

    def record(request) -> None:
        requests.append(request.url)

    page.on("request", record)
    results = Axe().run(page)
    page.remove_listener("request", record)
    assert requests == [], f"axe made requests: {requests}"
    for v in results.response["violations"]:
        if v["impact"] in ("serious", "critical"):
            nodes = "; ".join(n["target"][0] if isinstance(n["target"][0], str) else str(n["target"])
                              for n in v["nodes"][:5])
            problems.append(f"{url}: {v['id']} ({v['impact']}): {v['help']} at {nodes}")
    names = [name for _, name in accessible_inputs(page)]
    unnamed = [n for n in names if not n.strip()]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if unnamed:
        problems.append(f"{url}: {len(unnamed)} inputs without an accessible name")
    if repeated:
        problems.append(f"{url}: accessible names used more than once: {repeated[:8]}")


def test_every_page_passes_axe_and_every_input_has_its_own_name(page, live_server):
    """axe-core (shipped in the package, run offline) finds no serious or critical violation on
    any student or staff page, and no two inputs of a page share an accessible name."""
    from grading import services

    course = make_course()
    student = make_member(course=course, username="student1")
    make_member(course=course, username="teacher", role=Membership.Role.INSTRUCTOR)
    assignment = make_assignment(course=course, reveal="after_attempt")
    values = round1_values()
    answers = {"rounds": [{"round": 1, "forward": {}, "backward": {}, "updated": {}}],
               "formulas": {"s1": "w11*x1 + w21*x2 + b1", "f1": "sigmoid(f1)"}}
    for name, value in values.items():
        _, column, cell = name.split(".", 2)
        answers["rounds"][0][column][cell] = value
    answers["rounds"][0]["forward"]["s2"] = "0.9300"
    submission = services.submission_submit(assignment=assignment, student=student, answers=answers)
    base, pk = live_server.url, assignment.pk
    problems: list[str] = []

    check_axe(page, base + "/accounts/login/", problems)
    log_in(page, live_server, "student1")
    page.goto(f"{base}/assignments/{pk}/")
    page.fill(field("r1.forward.f1"), "0,62")  # an invalid cell, as autosave reports it
    saved(page)
    for url in ("/", f"/assignments/{pk}/", f"/submissions/{submission.pk}/"):
        check_axe(page, base + url, problems)
    page.click("#logout-form button[type=submit]")
    page.wait_for_url(re.compile(r"/accounts/login/"))
    log_in(page, live_server, "teacher")
    for url in ("/", f"/assignments/{pk}/", f"/submissions/{submission.pk}/", f"/assignments/{pk}/gradebook/",
                f"/assignments/{pk}/key/", f"/assignments/{pk}/analytics/", f"/assignments/{pk}/queue/",
                f"/assignments/{pk}/regrade/", f"/assignments/{pk}/extensions/", f"/assignments/{pk}/roster/",
                f"/submissions/{submission.pk}/regrade/"):
        check_axe(page, base + url, problems)
    assert problems == []


def test_inputs_say_round_column_and_cell_and_invalid_ones_point_at_their_message(page, live_server):
    """A screen reader hears "Round 2, updated parameters, w11" (not "w11" twice); an invalid cell
    is aria-invalid and described by its message once autosave reports it; skip links and
    captions are there."""
    from playwright.sync_api import expect

    open_assignment(page, live_server)
    names = [name for _, name in accessible_inputs(page)]
    assert "Round 2, updated parameters, w11" in names and "Round 2, parameters, w11" in names
    assert "Round 1, forward pass, s1" in names and len(names) == len(set(names))
    page.locator(field("r1.forward.s1")).focus()
    page.keyboard.press("Tab")  # focus goes down the column, not across the row
    assert page.evaluate("document.activeElement.name") == "r1.forward.s2"
    page.fill(field("r1.forward.s1"), "๐,๔๖")
    s1 = page.locator(field("r1.forward.s1"))
    expect(s1).to_have_attribute("aria-invalid", "true")
    expect(s1).to_have_attribute("aria-describedby", "problem-r1.forward.s1")
    expect(page.locator('[id="problem-r1.forward.s1"]')).to_have_text("use a point for decimals, not a comma")
    description = page.evaluate("""() => {
        const el = document.querySelector('[name="r1.forward.s1"]');
        return document.getElementById(el.getAttribute("aria-describedby")).textContent; }""")
    assert description == "use a point for decimals, not a comma"
    page.fill(field("r1.forward.s1"), "๐.๔๖")
    expect(s1).not_to_have_attribute("aria-invalid", "true")
    expect(page.locator("#round-1 caption").first).to_have_text("Round 1 · Parameters")
    skip = page.locator('#round-1 a.skip-link')
    expect(skip).to_have_attribute("href", "#round-2")
    skip.focus()
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "round-2"


# ------------------------------------------------------------------ a phone


def no_sideways_scroll(page) -> None:
    width = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert width[0] <= width[1], f"the page is {width[0]} px wide in a {width[1]} px screen"


def test_on_a_phone_the_tables_fit_the_bar_is_compact_and_the_given_values_stay_in_view(page, live_server):
    """At 390×844: no page scrolls sideways (entry and feedback, the tolerance box included), the
    save bar is at most 64 px tall, a cell can be filled and is autosaved, and while typing in the
    middle of round 2's backward column its given values are on screen."""
    from playwright.sync_api import expect

    page.set_viewport_size({"width": 390, "height": 844})
    student, assignment = open_assignment(page, live_server)
    no_sideways_scroll(page)
    bar = page.locator("#save-bar").bounding_box()
    assert bar["height"] <= 64
    cell = page.locator(field("r2.backward.dL/ds2"))
    cell.scroll_into_view_if_needed()
    cell.fill("0.1385")
    saved(page)
    assert Submission.objects.get(student=student).answers["rounds"][1]["backward"]["dL/ds2"] == "0.1385"
    given = page.locator("#round-2-given")
    expect(given).to_be_in_viewport()
    box = given.bounding_box()
    assert 0 <= box["x"] and box["x"] + box["width"] <= 390
    box_cell = cell.bounding_box()
    assert box["y"] + box["height"] <= box_cell["y"]  # above the cell, not over it
    expect(given).to_contain_text("x1 = 0.5")
    page.click('button[value="submit"]')
    page.click("#submit-dialog-confirm")
    page.wait_for_url(re.compile(r"/submissions/\d+/$"))
    expect(page.locator("#total-score")).to_contain_text("Score:")
    no_sideways_scroll(page)
    tolerance = page.locator("#tolerance").bounding_box()
    assert tolerance["x"] + tolerance["width"] <= 390


def test_on_a_phone_staff_pages_do_not_scroll_sideways_and_their_scroll_boxes_are_reachable(page, live_server):
    """At 390×844 the staff's view of an attempt (its grade history's hidden "Read" header was
    placed against the page and widened it) and the answer key (a formula's MathML does not wrap)
    fit the screen; their wide tables scroll in boxes a keyboard reaches (axe)."""
    from grading import services

    course = make_course()
    student = make_member(course=course, username="student1")
    make_member(course=course, username="teacher", role=Membership.Role.INSTRUCTOR)
    assignment = make_assignment(course=course, reveal="after_attempt")
    answers = {"rounds": [{"round": 1, "forward": {"s1": "0.1"}, "backward": {}, "updated": {}}],
               "formulas": {"s1": "w11*x1 + w21*x2 + b1"}}
    submission = services.submission_submit(assignment=assignment, student=student, answers=answers)
    page.set_viewport_size({"width": 390, "height": 844})
    log_in(page, live_server, "teacher")
    problems: list[str] = []
    for url in (f"/submissions/{submission.pk}/", f"/assignments/{assignment.pk}/key/"):
        check_axe(page, live_server.url + url, problems)
        no_sideways_scroll(page)
    assert problems == []


# ------------------------------------------------------------------ a Thai student


THAI_DIGITS = str.maketrans("0123456789", "๐๑๒๓๔๕๖๗๘๙")
# (page, selector, Thai text the page must show): the hand-written Thai of the catalogue
# (locale/parts/students.po and students.js.po). The walk below asserts every entry. The marking
# messages inside the feedback cells are converted apart (the marking's own catalogue); the
# feedback entries here are the page's own headings, labels and marks.
THAI_WORDING: list[tuple[str, str, str]] = [
    ("assignment", "html[lang=th] h2", "โครงข่ายและค่าที่กำหนดให้"),
    ("assignment", "#round-1-title", "รอบ 1 (ขั้นเริ่มต้น)"),
    ("assignment", "#round-1 caption", "รอบ 1 · พารามิเตอร์"),
    ("assignment", "#sheet-help", "ใช้ได้เหมือนสเปรดชีต"),
    ("assignment", "#save-bar", "บันทึกฉบับร่าง"),
    ("assignment", "#submit-button", "ส่งคำตอบ (ครั้งที่ส่ง 1)"),
    ("assignment", "#language-switch [aria-current=true]", "ภาษาไทย"),
    ("dialog", "#submit-dialog-title", "ยืนยันการส่งคำตอบ (ครั้งที่ส่ง 1)?"),
    ("dialog", "#submit-dialog-counts", "ช่องที่ไม่ใช่ตัวเลข: 0 ช่อง"),
    ("dialog", "#submit-dialog-attempts", "หลังจากนี้จะเหลือครั้งที่ส่งอีก 2 ครั้ง"),
    ("dialog", "#submit-dialog-cancel", "แก้ไขต่อ"),
    ("dialog", "#submit-dialog-confirm", "ส่งคำตอบ (ครั้งที่ส่ง 1)"),
    ("feedback", "h1", "ผลการตรวจครั้งที่ส่ง 1"),
    ("feedback", "#total-score", "คะแนน:"),
    ("feedback", "#tolerance", "ความคลาดเคลื่อนที่ยอมรับได้"),
    ("feedback", "#question-scores thead", "จากคะแนนต่อเนื่อง"),
    ("feedback", '#round-1 table[data-col="1"] caption', "รอบ 1 · การคำนวณไปข้างหน้า"),
    ("feedback", "#loss-plot h2", "ค่าความสูญเสียในแต่ละรอบ"),
]
THAI_SAVED = re.compile(r"^บันทึกแล้ว \d\d:\d\d:\d\d UTC\+07$")  # "Saved hh:mm:ss" in Thai


def thai_wording(page, which: str) -> None:
    from playwright.sync_api import expect

    for where, selector, text in THAI_WORDING:
        if where == which:
            expect(page.locator(selector).first).to_contain_text(text)


def test_a_thai_student_types_thai_digits_pastes_a_column_submits_and_reads_the_feedback(live_server, page):
    """In a Thai browser (th-TH): the page is in Thai; round 1's forward pass typed in Thai
    digits, the backward pass pasted as a spreadsheet column, the updated parameters typed;
    Submit after the Thai dialog; the Thai feedback marks round 1 fully right and shows the Thai
    digits exactly as typed."""
    from playwright.sync_api import expect

    # A Thai browser: the language and the locale it sends.
    context = page.context.browser.new_context(locale="th-TH", extra_http_headers={"Accept-Language": "th-TH,th;q=0.9"})
    thai = context.new_page()
    thai.set_default_timeout(10_000)
    try:
        course = make_course()
        student = make_member(course=course, username="somchai")
        assignment = make_assignment(course=course, reveal="after_attempt")
        log_in(thai, live_server, "somchai")
        assert thai.evaluate("navigator.language") == "th-TH"
        thai.goto(f"{live_server.url}/assignments/{assignment.pk}/")
        expect(thai.locator("html")).to_have_attribute("lang", "th")
        thai_wording(thai, "assignment")
        values = round1_values()
        typed = {}
        for name in FORWARD:
            text = values[f"r1.forward.{name}"].translate(THAI_DIGITS)
            thai.fill(field(f"r1.forward.{name}"), text)
            typed[f"r1.forward.{name}"] = text
        paste(thai, "r1.backward.dL/df1", "\r\n".join(values[f"r1.backward.{n}"] for n in BACKWARD) + "\r\n")
        expect(thai.locator("#round-1-status")).to_have_text("วางค่า 10 ค่าลงใน dL/df1 … dL/dw22 แล้ว")
        for name in UPDATED:
            thai.fill(field(f"r1.updated.{name}"), values[f"r1.updated.{name}"])
        expect(thai.locator("#autosave-status")).to_have_text(THAI_SAVED)
        expect(thai.locator('[data-problem-for="r1.forward.s1"]')).to_have_text("")

        thai.click('button[value="submit"]')
        expect(thai.locator("#submit-dialog")).to_be_visible()
        thai_wording(thai, "dialog")
        thai.click("#submit-dialog-confirm")
        thai.wait_for_url(re.compile(r"/submissions/\d+/$"))
        expect(thai.locator("#total-score")).to_contain_text("35")
        thai_wording(thai, "feedback")
        attempt = Submission.objects.exclude(state=Submission.State.DRAFT).get(student=student)
        report = report_of(attempt)
        assert {c.status for c in report.cells if c.round == 1} == {"correct"}
        s1 = thai.locator('[id="cell-r1.forward.s1"]')
        expect(s1.locator("code.typed")).to_have_text(typed["r1.forward.s1"])  # as typed: ๐.๔๖๐๐
        expect(s1.locator(".status-badge")).to_have_text("✓ ถูกต้อง")
        assert attempt.answers["rounds"][0]["forward"]["s1"] == typed["r1.forward.s1"]
    finally:
        context.close()


def test_the_header_switch_changes_the_page_and_its_scripts_language_and_back(page, live_server):
    """An English browser switches to Thai in the header: the same page comes back in Thai and
    its scripts speak Thai too (autosave's "Saved"), not the English catalogue the browser kept;
    switching back gives English again, remembered over a reload."""
    from playwright.sync_api import expect

    open_assignment(page, live_server)
    url = page.url
    page.fill(field("r1.forward.s1"), "0.4600")
    saved(page)
    page.click('#language-switch button[value="th"]')
    expect(page.locator("html")).to_have_attribute("lang", "th")
    assert page.url == url
    expect(page.locator("#submit-button")).to_have_text("ส่งคำตอบ (ครั้งที่ส่ง 1)")
    page.fill(field("r1.forward.s2"), "0.9200")
    expect(page.locator("#autosave-status")).to_have_text(THAI_SAVED)
    paste(page, "r1.forward.f1", "0.6130\n0.7150\n")
    expect(page.locator("#round-1-status")).to_have_text("วางค่า 2 ค่าลงใน f1 … f2 แล้ว")
    page.click('#language-switch button[value="en"]')
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.reload()
    expect(page.locator("#submit-button")).to_have_text("Submit attempt 1")
    page.fill(field("r1.forward.s2"), "0.9201")
    saved(page)


# ------------------------------------------------------------------ drafts as history (issue 18)


def test_a_partial_or_stale_autosave_loses_nothing(page, live_server):
    """A save sends only what changed: typing one cell keeps every other. A page left open while
    another tab saved shows that tab's values after its own save; typing over a cell the other
    tab changed is refused, the typed value stays in the input, and the newer one is offered."""
    from playwright.sync_api import expect

    from grading import services

    def draft_forward() -> dict:
        return Submission.objects.get(student=student, state="draft").answers["rounds"][0]["forward"]

    course = make_course()
    student = make_member(course=course, username="twotabs")
    assignment = make_assignment(course=course)
    values = round1_values()
    services.draft_save(assignment=assignment, student=student, answers={"rounds": [
        {"round": 1, "forward": {"s1": values["r1.forward.s1"], "s2": values["r1.forward.s2"]}}]})
    log_in(page, live_server, "twotabs")
    page.goto(f"{live_server.url}/assignments/{assignment.pk}/")
    expect(page.locator(field("r1.forward.s1"))).to_have_value(values["r1.forward.s1"])

    # Another tab saves s2 (version 2); this page, based on version 1, types f1 only.
    services.draft_save(assignment=assignment, student=student, base=1, carried=["r1.forward.s2"],
                        answers={"rounds": [{"round": 1, "forward": {"s2": "0.7777"}}]})
    page.fill(field("r1.forward.f1"), "0.6130")
    saved(page)
    assert draft_forward() == {"s1": values["r1.forward.s1"], "s2": "0.7777", "f1": "0.6130"}
    expect(page.locator(field("r1.forward.s2"))).to_have_value("0.7777")  # the other tab's value, shown

    # The other tab changes s1; this page types over s1 too: refused, nothing lost either side.
    services.draft_save(assignment=assignment, student=student, carried=["r1.forward.s1"],
                        answers={"rounds": [{"round": 1, "forward": {"s1": "0.1111"}}]})
    page.fill(field("r1.forward.s1"), "0.2222")
    expect(page.locator("#autosave-conflict")).to_be_visible()
    expect(page.locator("#autosave-conflict-message")).to_contain_text("round 1 s1")
    expect(page.locator(field("r1.forward.s1"))).to_have_value("0.2222")
    assert draft_forward()["s1"] == "0.1111"
    page.click("#autosave-load-newer")
    expect(page.locator(field("r1.forward.s1"))).to_have_value("0.1111")
    expect(page.locator("#autosave-conflict")).to_be_hidden()
    saved(page)
    assert draft_forward() == {"s1": "0.1111", "s2": "0.7777", "f1": "0.6130"}
