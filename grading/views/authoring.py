"""The authoring page: instructors create, clone or change an assignment in a form, with the
network drawing, the full key and the loss plot beside it, recomputed as they type.

Instructors of the course (and superusers) only: an assignment decides what is graded, as a
class regrade does, which is the instructors' too. TAs and students get a 404. The preview is
a small JSON endpoint the page's script posts the form to (``grading/static/grading/authoring.js``);
without JavaScript, "Update the grids and the preview" posts the page and renders it again.
"""

from __future__ import annotations

import base64
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings as django_settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language, gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from grading import permissions, selectors, services

import grading.engine.grids as authoring

from grading.figures import plots
from grading.authoring_form import AuthoringForm, initial_of
from grading.views.common import round_tables
from grading.views.params import id_param

if TYPE_CHECKING:
    from grading.models import Assignment, Course

NEW_DEFAULTS = {"decimals": 4, "max_attempts": 3, "reveal": "after_due", "carried_credit": 1.0,
                "carried_cap": 1.0, "not_chained_credit": 0.5, "unexplained_roots": "review", "grace_seconds": 120,
                "accept_late": False, "auto_submit": False, "practice": False, "statement": "",
                "statement_th": ""}
MAX_EXAMPLE = 10_000


def _new_initial() -> dict[str, Any]:
    """A new assignment: Homework 4.1's shape (2 inputs, 2 sigmoid outputs, 4 rounds), empty cells."""
    now = timezone.now().replace(second=0, microsecond=0)
    grids = authoring.blank_grids([2, 2], ["sigmoid"], 4)
    grids.lr = "1"
    return initial_of(grids, {**NEW_DEFAULTS, "title": "", "title_th": "", "slug": "", "opens_at": now,
                              "due_at": now + timedelta(days=7)})


def _initial_from(assignment: Assignment, *, copy: bool) -> dict[str, Any]:
    data = initial_of(authoring.grids_of(assignment.spec), selectors.authoring_initial(assignment))
    if copy:
        for field in ("title", "title_th"):
            if data.get(field):
                data[field] = _("%(title)s (copy)") % {"title": data[field]}
        data["slug"] = f"{assignment.slug}-copy"[:80]
    return data


def _example(request: HttpRequest) -> int:
    return id_param(request.POST.get("example"), limit=MAX_EXAMPLE)


def preview_context(check: selectors.Check | None, *, drawing: Any, problems: list[str],
                    cell_errors: bool, decimals: int, example: int) -> dict[str, Any]:
    """What the preview shows: the drawing of the network, why the problem is refused (if it is),
    and the key and loss of its problem (an example student's draw when it has ranges)."""
    context: dict[str, Any] = {"problems": problems, "cell_errors": cell_errors, "drawing": drawing}
    if check is not None and check.example is not None:
        spec = check.example
        loss = selectors.answer_key(spec).loss()
        svg = plots.loss_plot(tuple(loss), lang=get_language())
        context.update(
            example=spec, drawing=spec, example_is_draw=check.example_is_draw,
            ranged=len(check.template.free) if check.template else 0,
            example_numbers=(selectors.variant_numbers(check.template, spec.to_json())
                             if check.example_is_draw and check.template is not None else []),
            next_example=example + 1, loss=loss,
            loss_img="data:image/svg+xml;base64," + base64.b64encode(svg).decode("ascii"),
            tables=round_tables(spec, show_expected=True, decimals=decimals), round_questions={})
    return context


def form_preview(form: AuthoringForm) -> dict[str, Any]:
    """The preview of a validated form."""
    return preview_context(form.check, drawing=_drawing(form), problems=form.problems,
                           cell_errors=bool(form.problem_errors()),
                           decimals=form.cleaned_data.get("decimals") or 4, example=form.example)


def saved_preview(assignment: Assignment) -> dict[str, Any]:
    """The preview of a saved assignment's spec (an edited or cloned one, as the page opens)."""
    check = selectors.check_spec(assignment.spec, decimals=assignment.decimals, seed=assignment.seed)
    problems = [_("The problem is degenerate: %(reason)s") % {"reason": r} for r in check.degenerate]
    if check.error:
        problems.append(check.error)
    return preview_context(check, drawing=check.example, problems=problems, cell_errors=False,
                           decimals=assignment.decimals, example=0)


def _drawing(form: AuthoringForm) -> Any:
    try:
        return selectors.parse_spec(form.drawing_spec())
    except ValueError:
        return None


def _initial_from_library(entry: selectors.LibraryEntry) -> dict[str, Any]:
    """A new assignment from a library template: its spec, its title, and a statement that says
    what it is and where it comes from (the author edits it)."""
    now = timezone.now().replace(second=0, microsecond=0)
    statement = f"{entry.description}\n\n" + _("Source: %(source)s") % {"source": entry.source}
    return initial_of(authoring.grids_of(entry.spec), {
        **NEW_DEFAULTS, "title": entry.title[:200], "slug": entry.slug[:80], "statement": statement,
        "opens_at": now, "due_at": now + timedelta(days=7)})


def _page(request: HttpRequest, *, course: Course, assignment: Assignment | None,
          source: Assignment | None = None, entry: selectors.LibraryEntry | None = None) -> HttpResponse:
    if assignment is not None:
        initial = _initial_from(assignment, copy=False)
        heading = _("Edit %(title)s") % {"title": assignment.shown_title}
    elif source is not None:
        initial = _initial_from(source, copy=True)
        heading = _("New assignment from %(title)s") % {"title": source.shown_title}
    elif entry is not None:
        initial = _initial_from_library(entry)
        heading = _("New assignment from %(title)s") % {"title": entry.title}
    else:
        initial, heading = _new_initial(), _("New assignment")
    form = AuthoringForm(request.POST if request.method == "POST" else None, initial=initial, course=course,
                         seed=assignment.seed if assignment is not None else selectors.PREVIEW_SEED,
                         editing=assignment.pk if assignment is not None else None)
    status = 200
    if form.is_bound:
        valid = form.is_valid()
        if request.POST.get("action") == "save":
            if valid:
                try:
                    authored = services.assignment_author(
                        course=course, assignment=assignment, spec=form.spec, settings=form.settings(),
                        points=[services.QuestionPoints(**p) for p in form.points()],
                        by=request.user, reason=form.cleaned_data.get("reason", ""))
                except ValidationError as exc:
                    form.add_model_errors(exc.message_dict if hasattr(exc, "error_dict")
                                          else {"__all__": exc.messages})
                else:
                    return _saved(request, authored)
            status = 400
        context = form_preview(form)
    elif (saved := assignment or source) is not None:
        context = saved_preview(saved)
    else:
        context = {"drawing": _drawing(form)}
    library = selectors.library_templates() if assignment is None and source is None else []
    return render(request, "grading/authoring/page.html", {
        "form": form, "course": course, "assignment": assignment, "heading": heading,
        "library": library, "from_library": entry.slug if entry is not None else "",
        "zone": django_settings.TIME_ZONE,
        "started": selectors.students_started(assignment) if assignment is not None else 0,
        "history": selectors.assignment_history(assignment) if assignment is not None else [],
        **context}, status=status)


def _saved(request: HttpRequest, authored: services.Authored) -> HttpResponse:
    saved = authored.assignment
    messages.success(request, _("Saved “%(title)s”.") % {"title": saved.shown_title})
    if not saved.published:
        messages.info(request, _("It is not published: its students see nothing of it until you "
                                 "press Publish."))
    if authored.to_regrade:
        messages.warning(request, _(
            "%(n)s graded attempts keep their grades until you regrade: open the Regrade tab and "
            "run a dry run first.") % {"n": authored.to_regrade})
    return redirect(reverse("grading:assignment_edit", args=[saved.pk]))


@login_required
@require_http_methods(["GET", "POST"])
def assignment_new(request: HttpRequest, code: str) -> HttpResponse:
    """A new assignment of the course; ``?from=<id>`` starts from a copy of another one the user
    teaches (a new seed: the copy's students draw new numbers), ``?template=<slug>`` from an
    audited template of the library (grading/specs/library)."""
    course = permissions.access_course_as_instructor(request.user, code)
    source = None
    wanted = request.GET.get("from", "")
    if wanted:
        source = permissions.access_assignment_as_staff(request.user, id_param(wanted))
    entry = None
    template = request.GET.get("template", "")
    if template and source is None:
        entry = selectors.library_template(template[:100])
        if entry is None:
            raise Http404("no such template")
    return _page(request, course=course, assignment=None, source=source, entry=entry)


@login_required
@require_http_methods(["GET", "POST"])
def assignment_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Change an assignment (its students keep the numbers they have)."""
    assignment = permissions.access_assignment_as_instructor(request.user, pk)
    return _page(request, course=assignment.course, assignment=assignment)


@login_required
@require_POST
def assignment_publish(request: HttpRequest, pk: int) -> HttpResponse:
    """Publish an assignment (its students see it from its opening time on), or with
    action=unpublish and a reason take it back while no attempt was handed in."""
    assignment = permissions.access_assignment_as_instructor(request.user, pk)
    if request.POST.get("action") == "unpublish":
        try:
            if services.assignment_unpublish(assignment, by=request.user, reason=request.POST.get("reason", "")):
                messages.success(request, _("“%(title)s” is unpublished: its students see nothing of it until you "
                                            "publish it again.") % {"title": assignment.title})
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        return redirect(reverse("grading:assignment_edit", args=[assignment.pk]))
    if services.assignment_publish(assignment, by=request.user, reason=request.POST.get("reason", "")):
        messages.success(request, _("Published “%(title)s”: its students see it from %(time)s.") % {
            "title": assignment.shown_title, "time": f"{timezone.localtime(assignment.opens_at):%Y-%m-%d %H:%M}"})
    return redirect(reverse("grading:assignment_edit", args=[assignment.pk]))


@login_required
@require_POST
def authoring_preview(request: HttpRequest, code: str) -> JsonResponse:
    """The live preview: the posted form checked, its errors by field, and the preview's HTML
    (the drawing, the refusal or the key and loss); with ``resize``, the grids laid out again."""
    course = permissions.access_course_as_instructor(request.user, code)
    assignment = None
    wanted = request.POST.get("assignment", "")
    if wanted:
        assignment = permissions.access_assignment_as_instructor(request.user, id_param(wanted))
    initial = _initial_from(assignment, copy=False) if assignment is not None else _new_initial()
    form = AuthoringForm(request.POST, initial=initial, course=course, example=_example(request),
                         seed=assignment.seed if assignment is not None else selectors.PREVIEW_SEED,
                         editing=assignment.pk if assignment is not None else None)
    form.is_valid()
    context = form_preview(form)
    response = {
        "ok": form.check is not None and form.check.ok and not form.problem_errors(),
        "errors": form.problem_errors(),
        "problems": [str(p) for p in form.problems],  # a message may be a grading.engine.text.Text
        "preview": render_to_string("grading/authoring/preview.html", context, request),
        "has_key": "example" in context,
    }
    if request.POST.get("resize"):
        response["grids"] = render_to_string("grading/authoring/grids.html", {"form": form}, request)
    return JsonResponse(response)
