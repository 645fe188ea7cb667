"""Home, the assignment page (entry tables, Save, Submit) and the autosave endpoint."""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.conf import settings
from django.shortcuts import redirect, render, resolve_url
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from grading import permissions, selectors, services
from grading.forms import AnswerForm, formula_input_name, values_from_answers
from grading.middleware import ArrivedRequest
from grading.views import fragments
from grading.views.common import round_question, round_tables, student_status, version_ms
from grading.views.params import id_param

if TYPE_CHECKING:
    from grading.models import Assignment


@login_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """The user's courses: a student's assignments with status, a teacher's with staff links."""
    memberships = selectors.memberships_of(request.user)
    entries = [(m.course, m.get_role_display(), m.is_staff_role or request.user.is_superuser,
                m.is_instructor_role or request.user.is_superuser) for m in memberships]
    if request.user.is_superuser:  # a superuser sees every course's staff pages
        member_of = {m.course_id for m in memberships}
        entries += [(c, _("Superuser"), True, True) for c in selectors.all_courses() if c.pk not in member_of]
    assignments = selectors.assignments_of(course for course, *_rest in entries)
    mine = selectors.student_home(assignments, request.user)  # notices included
    terms = selectors.terms_by_assignment(assignments, request.user)
    now = timezone.now()
    courses = []
    for course, role, staff, instructor in entries:
        rows = []
        for assignment in (a for a in assignments if a.course_id == course.pk
                           and (a.published or staff)):  # unpublished: shown to staff only
            submissions, counted = mine.rows[assignment.pk]
            status, colour = student_status(terms[assignment.pk], submissions, now)
            rows.append({"assignment": assignment, "status": status, "colour": colour,
                         "due_at": terms[assignment.pk].due_at,
                         "best": counted.score if counted else None})
        courses.append({"course": course, "role": role, "staff": staff, "instructor": instructor,
                        "rows": rows})
    return render(request, "grading/home.html", {"courses": courses, "notices": mine.notices})


def _page(request: HttpRequest, assignment: Assignment, *, form: AnswerForm | None = None,
          errors: list[str] | None = None, status: int = 200) -> HttpResponse:
    """Render the assignment page; with a bound form, every typed value comes back as posted.

    A student sees their own problem (their variant, drawn and stored the first time they open
    an assignment with ranges); staff see the shared spec, or an example draw.
    """
    staff = permissions.is_course_staff(request.user, assignment.course)
    variant = None
    if staff:
        spec = selectors.preview_problem(assignment)
    else:
        try:
            problem = services.student_problem(assignment=assignment, student=request.user)
        except services.VariantError:
            return render(request, "request_refused.html", {
                "title": _("Your problem could not be drawn"),
                "message": _("The ranges of this assignment gave no usable problem for you. Tell "
                             "the course staff: they need to widen the ranges.")}, status=409)
        spec, variant = problem.spec, problem.variant
    # A bounded list of attempts (the latest, or a page of older ones): the page costs the same
    # for a student with 600 attempts as for one with 3.
    before = id_param(request.GET.get("before"), limit=2**15) or None  # a page of older attempts
    mine = selectors.student_attempts(assignment, request.user, before=before)
    draft, last = mine.draft, mine.last
    terms = selectors.student_terms(assignment, request.user)
    fresh = variant is not None and variant.attempt_no > 0  # practice: a new problem each attempt
    if form is not None:
        values = form.raw_values()
    elif draft is not None:
        values = values_from_answers(spec, draft.answers)
    elif last is not None and not fresh:  # a new attempt starts from the last one handed in
        values = values_from_answers(spec, last.submission.answers)
    else:
        values = {}
    error_inputs = dict(form.errors) if form is not None and form.is_bound else {}
    round_questions = round_question(assignment)
    variant_note = _variant_note(assignment, staff=staff)
    now = timezone.now()
    # The tables from the problem's kept skeleton with this student's values; the full render
    # where the server refused a value or a draft holds one that is not a number.
    tables_html = None if error_inputs else fragments.entry_tables(
        spec, values=values, decimals=assignment.decimals, readonly=staff, round_questions=round_questions)
    forward, backward, update = selectors.formula_columns(spec)
    # Q1 as two columns (forward, backward), each a table: Tab and Enter go down a column; a
    # batch round or an optimizer adds a third, the update of one parameter (issue 20).
    formula_sides = [
        {"title": title, "rows": [{"row": r, "name": formula_input_name(r),
                                   "value": values.get(formula_input_name(r), "")} for r in rows]}
        for title, rows in ((_("Forward pass"), forward), (_("Backward pass"), backward),
                            (_("Update (one parameter)"), update)) if rows]
    context = {
        "assignment": assignment,
        "spec": spec,
        "staff": staff,
        "terms": terms,
        "help": fragments.page_help(layered=spec.n_layers > 1, decimals=assignment.decimals,
                                    update=bool(update)),
        "tables_html": tables_html,
        "tables": [] if tables_html is not None else round_tables(
            spec, values=values, decimals=assignment.decimals, error_inputs=error_inputs),
        "given_html": fragments.given_values(spec, decimals=assignment.decimals, variant_note=variant_note),
        "round_questions": round_questions,
        "formula_sides": formula_sides,
        "draft": draft,
        "version": version_ms(draft or (last.submission if last else None)),
        "draft_version": selectors.draft_version(draft),
        "attempts": mine.shown,
        "attempt_count": mine.count,
        "older_attempts": mine.older,
        "attempt_range": ((mine.shown[0].submission.attempt, mine.shown[-1].submission.attempt)
                          if mine.shown else None),
        "listing_older": before is not None,
        "attempts_left": 1 if assignment.practice else max(0, terms.max_attempts - mine.count),
        "is_open": terms.is_open(),
        "past_due": terms.due_at <= now,
        "due_soon": now < terms.due_at < now + timedelta(hours=1),
        "errors": errors or [],
        # Practice: one browser copy per attempt's problem, so the last problem's typing is not
        # put back into the next one.
        "storage_key": (f"backprop:draft:{request.user.pk}:{assignment.pk}"
                        + (f":{variant.attempt_no}" if fresh and variant is not None else "")),
        "variant": variant,
        "variant_note": variant_note,
        "mistakes": selectors.mistake_catalogue(spec) if staff else [],
        # A fresh token per page: submitting this page twice finds the first attempt.
        "submit_token": secrets.token_urlsafe(24),
        "expired": request.GET.get("expired", "") if form is None else "",
        "last": last,
    }
    return render(request, "grading/assignment.html", context, status=status)


def _variant_note(assignment: Assignment, *, staff: bool) -> str:
    """What the page says about whose numbers these are (nothing for a shared problem)."""
    if not assignment.has_variants:
        return ""
    if staff:
        return _("Each student gets their own numbers, drawn from the assignment's ranges: shown "
                 "here is an example draw. The answer key page shows the ranges.")
    if assignment.practice:
        return _("These numbers are yours, for this attempt: each practice attempt gets new ones.")
    return _("These numbers are yours: every student has their own.")


FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def assignment_page(request: ArrivedRequest, pk: int) -> HttpResponse:
    """GET: the statement and entry tables. POST: Save (action=save) or Submit (action=submit)."""
    if not request.user.is_authenticated:
        # A post whose session expired: the login page and then the top of this page say that
        # nothing was saved or submitted (the autosave script has kept the answers in the browser).
        back = reverse("grading:assignment", args=[pk])
        query = {"next": back}
        if request.method == "POST":
            action = "submit" if request.POST.get("action") == "submit" else "save"
            query = {"next": f"{back}?expired={action}", "expired": action}
        return redirect(f"{resolve_url(settings.LOGIN_URL)}?{urlencode(query)}")
    if request.method != "POST":
        assignment = permissions.access_assignment_as_member(request.user, pk)
        if not assignment.has_opened() and not permissions.is_course_staff(request.user, assignment.course):
            return render(request, "grading/not_open.html",
                          {"assignment": assignment, "message": services.opens_message(assignment)})
        return _page(request, assignment)
    assignment = permissions.access_assignment_as_student(request.user, pk)
    form = AnswerForm(request.POST, spec=assignment.shape_spec)
    if not form.posted_any():
        return _page(request, assignment, errors=[_("No answer fields were sent; nothing was saved or "
                                                    "submitted. Reload the page and try again.")], status=400)
    if not form.is_valid():
        return _page(request, assignment, form=form, errors=form.error_lines(), status=400)
    try:
        if request.POST.get("action") == "submit":
            accepted = services.submission_accept(assignment=assignment, student=request.user,
                                                  answers=form.answers(), now=request.arrived_at,
                                                  token=request.POST.get("submit_token") or None)
            submission = accepted.submission
            received = {"attempt": submission.attempt,
                        "time": f"{timezone.localtime(submission.submitted_at):%H:%M:%S}"}
            if accepted.duplicate:
                messages.info(request, _("This page was already submitted: attempt %(attempt)s, received "
                                         "at %(time)s. Nothing was submitted twice.") % received)
            else:
                messages.success(request, _("Attempt %(attempt)s received at %(time)s.") % received)
            return redirect(submission)
        try:
            base = form.base()
        except ValueError:
            return _page(request, assignment, form=form, status=400,
                         errors=[_("The page's draft version is not a number; nothing was saved. Reload the page.")])
        draft = services.draft_save(assignment=assignment, student=request.user, answers=form.answers(),
                                    carried=form.carried(), base=base).draft
    except ValidationError as exc:
        return _page(request, assignment, form=form, errors=exc.messages, status=400)
    except services.SubmissionError as exc:
        return _page(request, assignment, form=form, errors=[str(exc)], status=409)
    messages.success(request, _("Draft saved at %(time)s.")
                     % {"time": f"{timezone.localtime(draft.updated_at):%H:%M:%S}"})
    return redirect(assignment)


@require_POST
def save_draft(request: HttpRequest, pk: int) -> JsonResponse:
    """The autosave endpoint: keep the posted answers as the draft and answer in JSON."""
    if not request.user.is_authenticated:
        # JSON, not a redirect to the login page: the script keeps the answers in the browser.
        return JsonResponse({"ok": False, "error": _("Your session has expired; log in again. "
                                                     "Your answers are kept in this browser.")}, status=401)
    assignment = permissions.access_assignment_as_student(request.user, pk)
    if request.content_type not in FORM_TYPES:
        got = request.content_type or _("no content type")
        return JsonResponse({"ok": False, "error": _("Not saved: send the answer form's fields (got "
                                                     "%(type)s). Your draft is unchanged.") % {"type": got}},
                            status=400)
    form = AnswerForm(request.POST, spec=assignment.shape_spec)
    if not form.posted_any():
        # Only the form's own fields are read: a body with none of them would empty the draft.
        return JsonResponse({"ok": False, "error": _("Not saved: no answer fields in this request. "
                                                     "Your draft is unchanged.")}, status=400)
    if not form.is_valid():
        return JsonResponse({"ok": False, "error": "; ".join(form.error_lines())}, status=400)
    try:
        base = form.base()
    except ValueError:
        return JsonResponse({"ok": False, "error": _("Not saved: the page's draft version is not a "
                                                     "number. Your draft is unchanged.")}, status=400)
    try:
        saved = services.draft_save(assignment=assignment, student=request.user, answers=form.answers(),
                                    carried=form.carried(), base=base)
    except ValidationError as exc:
        return JsonResponse({"ok": False, "error": " ".join(exc.messages)}, status=400)
    except services.DraftConflict as exc:
        # Based on an older version and writing over newer values of the same cells: refused,
        # with those values, for the page to offer back.
        return JsonResponse({"ok": False, "conflict": True, "error": str(exc),
                             "draft_version": exc.version, "newer": exc.newer}, status=409)
    except services.SubmissionError as exc:
        return JsonResponse({"ok": False, "error": str(exc)}, status=409)
    draft = saved.draft
    # Say now which typed cells are not numbers, so no attempt is spent finding out.
    # str(): the marking's message (a grading.engine.text.Text) in the request's language, not its English.
    # The whole draft's cells, not only this save's: the page marks (and unmarks) every cell.
    problems = {name: str(problem) for name, value in values_from_answers(assignment.shape_spec, draft.answers).items()
                if not name.startswith("formulas.") and (problem := selectors.number_problem(value))}
    return JsonResponse({"ok": True, "version": int(version_ms(draft)), "draft_version": saved.version,
                         "newer": saved.newer, "problems": problems})


@login_required
@require_GET
def formula_preview(request: HttpRequest) -> JsonResponse:
    """The live preview of one Q1 formula: MathML from our own renderer, or the parser's message."""
    text = request.GET.get("text", "")
    try:
        n, m = int(request.GET.get("n", 2)), int(request.GET.get("m", 2))
        # A network with hidden layers sends its layer sizes, e.g. sizes=2-2-2.
        sizes = tuple(int(k) for k in request.GET.get("sizes", "").split("-") if k) or (n, m)
    except ValueError:
        sizes = (2, 2)
    if not (2 <= len(sizes) <= 5 and all(1 <= k <= 9 for k in sizes)):
        sizes = (2, 2)
    if len(text) > services.FIELD_MAX_CHARS:
        return JsonResponse({"mathml": "", "error": _("Longer than %(n)s characters.")
                             % {"n": services.FIELD_MAX_CHARS}})
    # The row the text answers: "s1 = w11*x1 + ..." is read for row s1 exactly as the grader reads it.
    row = request.GET.get("row") or None
    try:
        return JsonResponse({"mathml": selectors.formula_mathml(text, sizes=sizes, row=row), "error": ""})
    except selectors.FormulaTextError as exc:  # the parser's complaint is shown, never a 500
        return JsonResponse({"mathml": "", "error": str(exc)[:300]})


@login_required
@require_GET
def draft_history(request: HttpRequest, pk: int) -> HttpResponse:
    """The versions the student's own draft keeps (time, answers filled), each with a restore."""
    assignment = permissions.access_assignment_as_student(request.user, pk)
    draft = selectors.student_draft(assignment, request.user)
    return render(request, "grading/draft_history.html", {
        "assignment": assignment, "submission": draft, "staff": False,
        "versions": selectors.draft_history(draft), "current": selectors.draft_version(draft)})


@login_required
@require_POST
def draft_restore(request: HttpRequest, pk: int, number: int) -> HttpResponse:
    """Restore version ``number`` of the student's own draft: a new save with its content."""
    assignment = permissions.access_assignment_as_student(request.user, pk)
    try:
        saved = services.draft_restore(assignment=assignment, student=request.user, number=number)
    except services.DraftVersionMissing as exc:
        raise Http404(_("Your draft keeps no such version.")) from exc
    except services.SubmissionError as exc:
        return render(request, "request_refused.html", {"title": _("Not restored"), "message": str(exc)},
                      status=409)
    messages.success(request, _("Version %(old)s of your draft was restored as version %(new)s.")
                     % {"old": number, "new": saved.version})
    return redirect(assignment)


@login_required
@require_GET
def submission_drafts(request: HttpRequest, pk: int) -> HttpResponse:
    """Staff, read-only: the saved versions of a student's draft (or of the draft an attempt was)."""
    submission = permissions.access_submission_history_as_staff(request.user, pk)
    return render(request, "grading/draft_history.html", {
        "assignment": submission.assignment, "submission": submission, "staff": True,
        "versions": selectors.draft_history(submission), "current": selectors.draft_version(submission)})
