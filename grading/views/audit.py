"""The key audit page: staff paste a printed key and see where it disagrees with the engine.

Course staff only (TAs included: it reads, it writes nothing). For an assignment with
per-student numbers the audit is against one student's variant (``?variant=``), reached from
their key page.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from grading import permissions, selectors
from grading.forms import KeyAuditForm
from grading.views.params import id_param


@login_required
@require_http_methods(["GET", "POST"])
def key_audit(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: the form. POST: every printed number the engine disagrees with, classified."""
    assignment = permissions.access_assignment_as_staff(request.user, pk)
    variant = None
    wanted = request.GET.get("variant", "")
    if wanted:
        variant = permissions.access_variant(request.user, assignment, id_param(wanted))
    spec = variant.parsed_spec if variant else (None if assignment.has_variants else assignment.parsed_spec)
    form = KeyAuditForm(request.POST or None)
    audit = None
    if request.method == "POST" and form.is_valid() and spec is not None:
        audit = selectors.key_audit(spec, form.cleaned_data["text"], form.chosen_format())
    return render(request, "grading/key_audit.html", {
        "assignment": assignment, "variant": variant, "needs_variant": spec is None, "form": form,
        "audit": audit, "kinds": {"typo": "danger", "carried": "warning", "last_digit": "secondary"}},
        status=400 if form.errors else 200)
