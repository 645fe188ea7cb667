"""Entering answers in a real browser, on a desktop (1366×900) and a phone (390×844, touch):
pasting across a hidden layer's bands, a copied round pasted back where it came from, the
keyboard through Q1 and the round tables with every focused field clear of the sticky Submit
bar, a save status that wraps, phone-sized fields, and the submit dialog's wording and number
check (issue 21). Expected values are written here or computed here from the typed values.
"""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from grading.models import Submission
from grading.marking.numbers import parse_number
from tests.factories import make_assignment, make_course, make_member, round1_values
from tests.test_browser import field, log_in, page  # noqa: F401 - the Chromium page fixture
from tests.test_browser_students import BACKWARD, paste
from tests.test_marking_layers import HIDDEN

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}
# Round 1's forward column of the hidden-layer homework, top to bottom as the page shows it
# (the "Layer 2 (output)" and "Loss" bands are headings between s2[1]… and y1 − f1).
HIDDEN_FORWARD = ("s1[1]", "s2[1]", "f1[1]", "f2[1]", "s1[2]", "s2[2]", "f1[2]", "f2[2]",
                  "y1-f1", "y2-f2", "(y1-f1)^2", "(y2-f2)^2", "L")

# After the browser's scrolling and one more frame (sheet.js scrolls a covered field clear then).
FOCUSED_BOX = """() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(() => {
    const el = document.activeElement, box = el.getBoundingClientRect();
    const bar = document.getElementById("save-bar").getBoundingClientRect();
    const section = el.closest(".round-section");
    const given = section ? section.querySelector(".round-given").getBoundingClientRect() : null;
    done({name: el.name, top: box.top, bottom: box.bottom, left: box.left, right: box.right,
          barTop: bar.top, givenBottom: given ? given.bottom : 0, height: innerHeight, width: innerWidth});
})))"""


def hidden_assignment(username: str = "student1", **kwargs):
    course = make_course()
    student = make_member(course=course, username=username)
    return student, make_assignment(course=course, spec=HIDDEN, slug="hw-4-2", **kwargs)


def focus_fully_visible(page, problems: list[str]) -> str:
    """Notes in ``problems`` when the focused field is not wholly on screen and clear of the bar
    and of its round's given values; returns the field's name."""
    box = page.evaluate(FOCUSED_BOX)
    where = f"{box['name']} at {box['width']}×{box['height']}"
    if box["bottom"] > box["barTop"]:
        problems.append(f"{where}: under the Submit bar ({box['bottom']:.0f} > {box['barTop']:.0f})")
    if box["top"] < box["givenBottom"] or box["top"] < 0:
        problems.append(f"{where}: under the given values ({box['top']:.0f} < {box['givenBottom']:.0f})")
    if box["left"] < 0 or box["right"] > box["width"]:
        problems.append(f"{where}: off the side")
    return box["name"]


def enter_down_the_cells(page, first: str, stops: int = 70) -> list[str]:
    """Enter from ``first`` through ``stops`` cells (the issue's 70: several screens, across
    rounds); each stop must be fully visible."""
    problems: list[str] = []
    page.locator(field(first)).focus()
    seen = [focus_fully_visible(page, problems)]
    for _ in range(stops - 1):
        page.keyboard.press("Enter")
        seen.append(focus_fully_visible(page, problems))
    assert len(set(seen)) == stops, "Enter did not move on to a new cell each time"
    return problems


def test_a_column_pasted_across_layer_bands_and_a_copied_round_pasted_back(page, live_server):
    """Desktop. The 13 forward values of the hidden-layer homework's round 1, pasted as one
    column into s1[1], land cell by cell in the order the table shows, across the bands, with
    nothing left over. Round 2, typed, copied with "Copy round 2", emptied and pasted back into
    its first input (w11[1], below the given x and y) comes back exactly as it was."""
    from playwright.sync_api import expect

    page.set_viewport_size(DESKTOP)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    student, assignment = hidden_assignment()
    log_in(page, live_server, "student1")
    page.goto(f"{live_server.url}/assignments/{assignment.pk}/")
    column = [f"0.{k + 1:02d}00" for k in range(len(HIDDEN_FORWARD))]  # 0.0100, 0.0200, … one per cell
    paste(page, "r1.forward.s1[1]", "\r\n".join(column) + "\r\n")
    for name, value in zip(HIDDEN_FORWARD, column):
        expect(page.locator(field(f"r1.forward.{name}"))).to_have_value(value)
    expect(page.locator("#round-1-status")).to_have_text("13 values pasted into s1[1] … L.")
    # Round 1 asks for 13 forward, 20 backward and 12 updated cells: 45, of which 13 now filled.
    expect(page.locator("#round-1-progress")).to_have_text("Progress: 13 filled, 32 blank, 0 not numbers.")
    assert page.locator(field("r1.backward.dL/df1[1]")).input_value() == ""

    typed = {"r2.parameters.w11[1]": "0.1111", "r2.parameters.b2[2]": "0.2222", "r2.forward.s1[1]": "0.3333",
             "r2.forward.L": "0.4444", "r2.backward.dL/dw22[2]": "-0.5555", "r2.updated.w11[1]": "0.6666",
             "r2.updated.b2[2]": "0.7777"}
    for name, value in typed.items():
        page.fill(field(name), value)
    page.click('[data-copy-round="2"]')
    text = page.evaluate("navigator.clipboard.readText()")
    lines = text.split("\n")
    # Round 2's first line: the given x1 (the second sample's) beside the typed s1[1], no input in between.
    assert lines[0].split("\t")[0] == "0.9" and lines[0].split("\t")[1] == "0.3333"
    assert len(lines) - 1 == 20  # the backward column's 20 cells are the longest: 20 lines
    for name in typed:
        page.fill(field(name), "")
    for target in ("r2.parameters.w11[1]", "r2.backward.dL/ds1[2]"):  # its first input, or any of its cells
        paste(page, target, text)
        values = page.evaluate("""() => Object.fromEntries([...document.querySelectorAll(
            'input[data-cell][data-round="2"]')].filter(i => i.value).map(i => [i.name, i.value]))""")
        assert values == typed, target
        expect(page.locator("#round-2-status")).not_to_contain_text("no cell to go to")
        expect(page.locator("#round-2-status")).not_to_contain_text("keep their values")
        for name in typed:
            page.fill(field(name), "")


def test_the_keyboard_goes_down_q1_and_every_table_and_never_hides_the_focus(page, live_server):
    """Desktop. Tab goes down Q1's forward column; Enter in a Q1 field moves to the next row and
    never submits or reloads; Enter then walks 70 cells across rounds 1 and 2 and each focused cell is
    wholly visible, clear of the sticky Submit bar and of the round's given values (WCAG 2.2 SC 2.4.11)."""
    page.set_viewport_size(DESKTOP)
    student, assignment = hidden_assignment()
    log_in(page, live_server, "student1")
    page.goto(f"{live_server.url}/assignments/{assignment.pk}/")
    url = page.url
    focused = "() => document.activeElement.name"
    page.locator(field("formulas.s1[1]")).focus()
    page.keyboard.press("Tab")
    assert page.evaluate(focused) == "formulas.s2[1]"  # down the column, not across to dL/…
    page.keyboard.type("w12[1]*x1 + w22[1]*x2 + b2[1]")
    page.keyboard.press("Enter")
    assert page.evaluate(focused) == "formulas.f1[1]"
    page.keyboard.press("Shift+Enter")
    assert page.evaluate(focused) == "formulas.s2[1]"
    assert page.url == url and not Submission.objects.exclude(state=Submission.State.DRAFT).exists()
    assert enter_down_the_cells(page, "r1.forward.s1[1]") == []


def test_on_a_phone_fields_are_for_fingers_and_nothing_is_cut_off(live_server, page):
    """A Thai student's touch phone at 390×844: every cell asks for the decimal keypad and is at
    least 44 px tall; Q1 is no sideways table; Enter down every cell keeps the focused one in
    view (70 Enter stops); with the session expired the save status shows its whole Thai message (the reason and
    that the answers are kept), wrapped, never elided."""
    from playwright.sync_api import expect

    from tests.test_browser_students import no_sideways_scroll

    context = page.context.browser.new_context(viewport=PHONE, has_touch=True, is_mobile=True, locale="th-TH",
                                               extra_http_headers={"Accept-Language": "th-TH,th;q=0.9"})
    phone = context.new_page()
    phone.set_default_timeout(10_000)
    try:
        student, assignment = hidden_assignment(reveal="after_attempt")
        log_in(phone, live_server, "student1")
        phone.goto(f"{live_server.url}/assignments/{assignment.pk}/")
        assert phone.evaluate("matchMedia('(pointer: coarse)').matches")
        no_sideways_scroll(phone)
        cells = phone.evaluate("""() => [...document.querySelectorAll('input[data-cell]')].map(i =>
            [i.name, i.getAttribute('inputmode'), i.getBoundingClientRect().height])""")
        assert cells and all(mode == "decimal" for _, mode, _ in cells)
        short = [(name, h) for name, _, h in cells if h < 44]
        assert short == []
        for table in phone.locator(".formula-table").all():
            box = table.bounding_box()
            assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
        assert enter_down_the_cells(phone, "r1.forward.s1[1]") == []

        # The session expires (the session cookie is gone); the next autosave says so in full.
        context.clear_cookies(name="sessionid")
        phone.fill(field("r1.forward.s1[1]"), "0.4600")
        status = phone.locator("#autosave-status")
        # The catalogue's Thai (locale/th djangojs.po): the reason, and "your answers are kept in this browser".
        expect(status).to_contain_text("เซสชันของคุณหมดอายุ")
        expect(status).to_contain_text("คำตอบของคุณยังเก็บอยู่ในเบราว์เซอร์นี้")
        fits = phone.evaluate("""() => { const s = document.getElementById('autosave-status');
            const box = s.getBoundingClientRect(), style = getComputedStyle(s);
            return {overflowX: s.scrollWidth - s.clientWidth, overflowY: s.scrollHeight - s.clientHeight,
                    right: box.right, bottom: box.bottom, ellipsis: style.textOverflow, lines: box.height /
                    parseFloat(style.lineHeight)}; }""")
        assert fits["overflowX"] <= 0 and fits["overflowY"] <= 0 and fits["ellipsis"] != "ellipsis"
        assert fits["right"] <= PHONE["width"] and fits["bottom"] <= PHONE["height"]
        assert fits["lines"] >= 2  # wrapped onto lines of its own, not cut to one
    finally:
        context.close()


def flipped(text: str) -> str:
    return text[1:] if text.startswith("-") else "-" + text


def test_a_feedback_page_with_a_named_mistake_fits_a_phone(page, live_server):
    """390×844: round 1 typed with the sign flip carried from dL/df into dL/ds and the gradients:
    the feedback names the mistake in a badge that wraps inside its cell, and the page does
    not scroll sideways."""
    from playwright.sync_api import expect

    from grading import services
    from tests.test_browser_students import no_sideways_scroll

    course = make_course()
    student = make_member(course=course, username="student1")
    assignment = make_assignment(course=course, reveal="after_attempt")
    values = round1_values()
    answers: dict = {"rounds": [{"round": 1, "forward": {}, "backward": {}, "updated": {}}]}
    for name, value in values.items():
        _, column, cell = name.split(".", 2)
        if column == "backward" and not cell.startswith("dL/df"):
            value = flipped(value)
        answers["rounds"][0][column][cell] = value
    submission = services.submission_submit(assignment=assignment, student=student, answers=answers)
    page.set_viewport_size(PHONE)
    log_in(page, live_server, "student1")
    page.goto(f"{live_server.url}/submissions/{submission.pk}/")
    badge = page.locator('[id="cell-r1.backward.dL/dw21"] .badge.border')
    expect(badge.first).to_contain_text("Mistake:")
    no_sideways_scroll(page)
    widths = page.evaluate("""() => [...document.querySelectorAll('.mark-cell .badge')].map(b => {
        const box = b.getBoundingClientRect(), cell = b.closest('td').getBoundingClientRect();
        return [box.right - cell.right, box.right, getComputedStyle(b).whiteSpace]; })""")
    assert widths and all(over <= 0.5 and right <= PHONE["width"] for over, right, _ in widths)
    assert all(wrap != "nowrap" for _, _, wrap in widths)  # a longer title wraps too


def test_the_submit_dialog_reads_numbers_as_the_server_and_practice_has_no_count(page, live_server):
    """1e999 and a 590-digit number are not numbers for the server (checked here) nor for the
    dialog, before any autosave marks them; the last attempt is called the last; a practice
    dialog never says "0 attempts left"; the saved time is the course's clock, named."""
    from playwright.sync_api import expect

    huge = "9" * 590
    assert parse_number("1e999").status == "invalid" and parse_number(huge).status == "invalid"
    assert parse_number("1e99").status == "number"
    course = make_course()
    make_member(course=course, username="student1")
    graded = make_assignment(course=course, max_attempts=1, slug="one-try")
    practice = make_assignment(course=course, slug="practice")
    practice.practice = True
    practice.save(update_fields=["practice"])
    log_in(page, live_server, "student1")
    page.goto(f"{live_server.url}/assignments/{graded.pk}/")
    page.evaluate("""([huge]) => {  // typed without an autosave reaching the server first
        for (const [name, text] of [["r1.forward.s1", "1e999"], ["r1.forward.s2", huge], ["r1.forward.f1", "1e99"]]) {
            document.querySelector(`[name="${name}"]`).value = text; } }""", [huge])
    page.fill(field("r1.forward.L"), "0,5")  # s1 1e999, s2 huge and L invalid; f1 1e99 a number
    expect(page.locator("#round-1-progress")).to_have_text(
        f"Progress: 1 filled, {len(round1_values()) - 4} blank, 3 not numbers.")
    page.click('button[value="submit"]')
    expect(page.locator("#submit-dialog-counts")).to_contain_text("Cells that are not numbers: 3.")
    expect(page.locator("#submit-dialog-attempts")).to_have_text(
        "This is your last attempt: after it you cannot submit again.")
    page.click("#submit-dialog-cancel")
    expect(page.locator("#last-attempt-warning")).to_be_visible()
    expect(page.locator("#last-attempt-warning")).to_contain_text("Your last attempt.")
    left = graded.due_at - timezone.now()  # a week less the seconds since it was made
    expect(page.locator("#due-countdown")).to_have_text(
        f"Time left: {left.days} days {left.seconds // 3600} hours")

    soon = make_assignment(course=course, slug="soon", due_in=timedelta(minutes=30))
    page.goto(f"{live_server.url}/assignments/{soon.pk}/")
    expect(page.locator("#due-countdown")).to_have_text(re.compile(r"^Time left: (29|30) minutes$"))
    expect(page.locator("#due-countdown")).to_have_class(re.compile(r"\btext-danger\b"))
    expect(page.locator("#last-attempt-warning")).to_have_count(0)  # 3 attempts left there

    page.goto(f"{live_server.url}/assignments/{practice.pk}/")
    page.fill(field("r1.forward.s1"), "0.4600")
    expect(page.locator("#autosave-status")).to_have_text(re.compile(r"^Saved \d\d:\d\d:\d\d UTC\+07$"))
    page.click('button[value="submit"]')
    expect(page.locator("#submit-dialog-attempts")).not_to_contain_text("attempts left")
    expect(page.locator("#submit-dialog-attempts")).to_contain_text("as often as you like")


def axe_violations(page, where: str) -> list[str]:
    """Every axe-core violation of the page as it stands (any impact: minor ones too)."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [f"{where}: {v['id']} ({v['impact']}) at "
            + "; ".join(str(n["target"][0]) for n in v["nodes"][:4]) for v in results.response["violations"]]


def test_every_student_page_is_axe_clean_at_both_sizes_in_thai_and_english(page, live_server):
    """No axe violation of any impact on home, the assignment page (its submit dialog open too),
    a feedback page naming a mistake and the draft history: desktop and phone, Thai and English."""
    from grading import services

    course = make_course()
    student = make_member(course=course, username="student1")
    assignment = make_assignment(course=course, reveal="after_attempt")
    answers: dict = {"rounds": [{"round": 1, "forward": {}, "backward": {}, "updated": {}}]}
    for name, value in round1_values().items():
        _, column, cell = name.split(".", 2)
        answers["rounds"][0][column][cell] = flipped(value) if column == "backward" and "dL/df" not in cell else value
    submission = services.submission_submit(assignment=assignment, student=student, answers=answers)
    services.draft_save(assignment=assignment, student=student, answers={"rounds": [
        {"round": 1, "forward": {"s1": "0.4600", "s2": "0,92"}}]})
    base = live_server.url
    problems: list[str] = []
    for language in ("en", "th"):
        context = page.context.browser.new_context(
            viewport=DESKTOP, extra_http_headers={"Accept-Language": language})
        tab = context.new_page()
        tab.set_default_timeout(10_000)
        try:
            log_in(tab, live_server, "student1")
            for size in (DESKTOP, PHONE):
                tab.set_viewport_size(size)
                where = f"{language} {size['width']}"
                for url in ("/", f"/assignments/{assignment.pk}/", f"/submissions/{submission.pk}/",
                            f"/assignments/{assignment.pk}/draft/history/"):
                    tab.goto(base + url)
                    tab.wait_for_load_state("networkidle")
                    problems += axe_violations(tab, f"{where} {url}")
                tab.goto(f"{base}/assignments/{assignment.pk}/")
                tab.click('button[value="submit"]')
                tab.locator("#submit-dialog[open]").wait_for()
                problems += axe_violations(tab, f"{where} submit dialog")
        finally:
            context.close()
    assert problems == []


IPHONE_UA = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
             "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1")


def test_an_iphone_keeps_the_full_keyboard_to_type_a_minus_sign(page, live_server):
    """iOS's decimal keypad has no minus sign and gradients are often negative: on an iPhone the
    cells ask for no keypad (the full keyboard, with "-"), and a negative value typed is saved."""
    from playwright.sync_api import expect

    context = page.context.browser.new_context(viewport=PHONE, has_touch=True, is_mobile=True,
                                               user_agent=IPHONE_UA)
    phone = context.new_page()
    phone.set_default_timeout(10_000)
    try:
        course = make_course()
        student = make_member(course=course, username="student1")
        assignment = make_assignment(course=course)
        log_in(phone, live_server, "student1")
        phone.goto(f"{live_server.url}/assignments/{assignment.pk}/")
        modes = phone.evaluate("[...document.querySelectorAll('input[data-cell]')].map(i => i.getAttribute('inputmode'))")
        assert modes and set(modes) == {None}
        phone.fill(field("r1.backward.dL/dw21"), "-0.0123")
        expect(phone.locator("#autosave-status")).to_have_text(re.compile(r"^Saved "))
        draft = Submission.objects.get(student=student)
        assert draft.answers["rounds"][0]["backward"]["dL/dw21"] == "-0.0123"
    finally:
        context.close()
