"""Admin: set-up of courses, members, assignments and questions; grades are read-only here."""
import json
from collections import Counter

from django import forms
from django.contrib import admin, messages
from django.utils.html import format_html
from django.utils.text import Truncator
from django.utils.translation import gettext, gettext_lazy as _

from grading import services
from grading.models import (Assignment, AssignmentChange, Course, Extension, Grading, Membership, Question,
                            RegradeJob, StaffJob, ReviewReply, ReviewRequest, Submission, Variant)


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 1
    autocomplete_fields = ["user"]


@admin.register(Course)
class CourseAdmin(admin.ModelAdmin):
    list_display = ["code", "title"]
    search_fields = ["code", "title"]
    inlines = [MembershipInline]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "course", "role"]
    list_filter = ["role", "course"]
    search_fields = ["user__username", "user__first_name", "user__last_name", "course__code"]
    autocomplete_fields = ["user", "course"]


class AssignmentForm(forms.ModelForm):
    """The spec is checked by the model field's validator: the engine's rules and message. Once
    the assignment exists, its spec is read-only here: it is written on the authoring page."""

    change_reason = forms.CharField(label=_("Why this change"), required=False, max_length=2000,
                                    help_text=_("Kept in the assignment's history; needed to change a "
                                                "published assignment."))

    class Meta:
        model = Assignment
        fields = "__all__"
        widgets = {"spec": forms.Textarea(attrs={"rows": 10, "cols": 80, "style": "font-family: monospace"})}

    def clean(self):
        data = super().clean() or {}
        if (self.instance.pk and self.instance.published and self.has_changed()
                and set(self.changed_data) - {"change_reason"} and not (data.get("change_reason") or "").strip()):
            self.add_error("change_reason", _("Say why you change a published assignment: the reason is kept "
                                              "in its history."))
        return data


class QuestionInline(admin.TabularInline):
    model = Question
    extra = 0


@admin.register(Assignment)
class AssignmentAdmin(admin.ModelAdmin):
    form = AssignmentForm
    list_display = ["title", "course", "published", "opens_at", "due_at", "decimals", "max_attempts", "reveal"]
    list_filter = ["course", "published", "reveal", "accept_late"]
    search_fields = ["title", "title_th", "slug", "course__code"]
    prepopulated_fields = {"slug": ["title"]}
    inlines = [QuestionInline]

    def get_readonly_fields(self, request, obj=None):
        # A new assignment may still be set up here; an existing one's spec changes on the
        # authoring page, which checks it and keeps every student's drawn numbers.
        return ("spec_pretty", "seed") if obj is not None else ()

    def get_exclude(self, request, obj=None):
        return ("spec",) if obj is not None else ()

    @admin.display(description=_("spec (read-only: change it on the authoring page)"))
    def spec_pretty(self, obj):
        return json.dumps(obj.spec, indent=1, ensure_ascii=False)

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        fields = [f for f in form.changed_data if f != "change_reason"]
        if fields or not change:
            services.assignment_change_record(
                assignment=obj, by=request.user, reason=form.cleaned_data.get("change_reason", ""),
                kind=AssignmentChange.Kind.EDIT if change else AssignmentChange.Kind.CREATE,
                changes={f: {"before": form.initial.get(f) if change else None, "after": form.cleaned_data.get(f)}
                         for f in fields})
        if {"due_at", "auto_submit", "grace_seconds"} & set(form.changed_data):
            services.assignment_schedule(assignment=obj)
        graded = obj.submissions.filter(state=Submission.State.SUBMITTED).count()
        if change and graded and set(services.GRADED_ON) & set(form.changed_data):
            # Grades are never changed behind anyone's back: a regrade shows the difference first.
            messages.warning(request, gettext(
                "%(n)s graded attempts keep their grades until you regrade: open the assignment's "
                "Regrade page and run a dry run first.") % {"n": graded})

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.submissions.filter(state=Submission.State.SUBMITTED).exists():
            return False  # grades are kept: an assignment with graded work is not deleted
        return super().has_delete_permission(request, obj)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        # Left without questions, it gets the homework's layout: the gradebook needs columns.
        services.assignment_questions_default(assignment=form.instance)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records of the ledger and its audit: readable here, never added, edited or deleted."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


# The read-only admins below list their `fields` as tuples, not lists, and reuse them as
# `readonly_fields`: a tuple of names fits both attributes' types (`fields` also allows groups of
# names, which a list would then be typed as, and `readonly_fields` does not).
class GradingInline(admin.TabularInline):
    model = Grading
    fields = ("sequence", "kind", "score", "max_score", "created_by", "created_at", "reason", "note")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Submission)
class SubmissionAdmin(ReadOnlyAdmin):
    list_display = ["student", "assignment", "attempt", "state", "late", "submitted_at"]
    list_filter = ["state", "late", "assignment__course", "assignment"]
    search_fields = ["student__username", "student__first_name", "student__last_name",
                     "assignment__title"]
    date_hierarchy = "submitted_at"
    # Attempts are append-only: the admin shows them but never edits them.
    fields = ("assignment", "student", "attempt", "answers_pretty", "state", "created_at",
              "updated_at", "submitted_at", "late")
    readonly_fields = fields
    inlines = [GradingInline]

    @admin.display(description=_("answers as typed"))
    def answers_pretty(self, obj):
        return json.dumps(obj.answers, indent=1, ensure_ascii=False)


@admin.register(Grading)
class GradingAdmin(ReadOnlyAdmin):
    """The grade ledger and its audit trail: who, when, what before, what after, and why."""

    # Short columns only: the submission's full name and a long reason made the list wider than
    # the page, so every column after "Kind" was cut off.
    list_display = ["student", "assignment", "attempt", "sequence", "kind", "score_of", "created_by",
                    "created_at", "reason_short"]
    list_display_links = ["student", "sequence"]
    list_select_related = ["submission__student", "submission__assignment", "created_by"]
    list_filter = ["kind", "submission__assignment"]
    search_fields = ["submission__student__username", "reason", "note"]
    # The report (tens of thousands of characters of JSON) is summarised; the full JSON is in a
    # collapsed section (one record's page was ~19,500 px long).
    fieldsets = (
        (None, {"fields": ("submission", "sequence", "kind", "based_on", "score", "max_score", "scores",
                           "needs_review", "changes_pretty", "grader_version", "spec_hash", "created_by",
                           "created_at", "reason", "note", "report_summary")}),
        (_("Full report (JSON)"), {"classes": ["collapse"], "fields": ("report_pretty",)}),
    )
    readonly_fields = ("submission", "sequence", "kind", "based_on", "score", "max_score", "scores",
                       "needs_review", "changes_pretty", "grader_version", "spec_hash", "created_by",
                       "created_at", "reason", "note", "report_summary", "report_pretty")

    @admin.display(description=_("student"), ordering="submission__student__username")
    def student(self, obj):
        return obj.submission.student.get_username()

    @admin.display(description=_("assignment"), ordering="submission__assignment__title")
    def assignment(self, obj):
        return Truncator(obj.submission.assignment.title).chars(40)

    @admin.display(description=_("attempt"), ordering="submission__attempt")
    def attempt(self, obj):
        return obj.submission.attempt

    @admin.display(description=_("score"), ordering="score")
    def score_of(self, obj):
        return f"{obj.score:g} / {obj.max_score:g}"

    @admin.display(description=_("reason"))
    def reason_short(self, obj):
        return Truncator(" ".join(obj.reason.split())).chars(60)

    @admin.display(description=_("changes"))
    def changes_pretty(self, obj):
        return json.dumps(obj.changes, indent=1, ensure_ascii=False)

    @admin.display(description=_("report"))
    def report_summary(self, obj):
        """The report in a few lines: each question's score, the cells by status, Q1 rows by
        status, and the named mistakes."""
        report = obj.report if isinstance(obj.report, dict) else {}
        questions = ", ".join(f"{q.get('id', '?')} {q.get('score', 0):g}/{q.get('max', 0):g}"
                              for q in report.get("questions", []) if isinstance(q, dict))
        def by_status(items):
            counts = Counter(str(i.get("status")) for i in items if isinstance(i, dict))
            return ", ".join(f"{status} {n}" for status, n in sorted(counts.items())) or "—"
        mistakes = ", ".join(str(m.get("title", m.get("id", "?"))) for m in report.get("mistakes", [])
                             if isinstance(m, dict)) or "—"
        return format_html(
            "{}: {}<br>{}: {}<br>{}: {}<br>{}: {}",
            gettext("questions"), questions or "—",
            gettext("cells"), by_status(report.get("cells", [])),
            gettext("Q1 rows"), by_status(report.get("formulas", [])),
            gettext("mistakes"), mistakes)

    @admin.display(description=_("report"))
    def report_pretty(self, obj):
        return json.dumps(obj.report, indent=1, ensure_ascii=False)


@admin.register(ReviewRequest)
class ReviewRequestAdmin(ReadOnlyAdmin):
    list_display = ["submission", "target", "created_by", "created_at"]
    fields = ("submission", "target", "message", "created_by", "created_at")
    readonly_fields = fields


@admin.register(ReviewReply)
class ReviewReplyAdmin(ReadOnlyAdmin):
    list_display = ["request", "outcome", "created_by", "created_at"]
    fields = ("request", "outcome", "grading", "message", "created_by", "created_at")
    readonly_fields = fields


@admin.register(AssignmentChange)
class AssignmentChangeAdmin(ReadOnlyAdmin):
    list_display = ["assignment", "kind", "created_by", "created_at", "short_reason"]
    list_filter = ["kind", "assignment__course"]
    fields = ("assignment", "kind", "changes", "reason", "created_by", "created_at")
    readonly_fields = fields

    @admin.display(description=_("reason"))
    def short_reason(self, obj):
        return Truncator(obj.reason).chars(60)


@admin.register(Extension)
class ExtensionAdmin(ReadOnlyAdmin):
    list_display = ["student", "assignment", "due_at", "extra_attempts", "created_by", "created_at"]
    list_filter = ["assignment"]
    fields = ("assignment", "student", "due_at", "extra_attempts", "reason", "created_by", "created_at")
    readonly_fields = fields


@admin.register(RegradeJob)
class RegradeJobAdmin(ReadOnlyAdmin):
    list_display = ["assignment", "dry_run", "status", "done", "total", "changed", "requested_by",
                    "created_at"]
    fields = ("assignment", "dry_run", "reason", "status", "done", "total", "changed",
              "requested_by", "created_at", "finished_at", "error")
    readonly_fields = fields


@admin.register(StaffJob)
class StaffJobAdmin(ReadOnlyAdmin):
    """Roster imports and exports; never the uploaded file, the sealed passwords nor the exported file."""

    list_display = ["kind", "assignment", "status", "done", "total", "secret_state", "requested_by",
                    "created_at"]
    fields = ("kind", "assignment", "status", "done", "total", "secret_state", "secret_taken_at",
              "requested_by", "created_at", "expires_at", "finished_at", "error")
    readonly_fields = fields

    def get_queryset(self, request):
        # An export's file can be megabytes: a list of jobs never reads it (nor the roster file).
        return super().get_queryset(request).defer("output", "payload", "secret")


@admin.register(Variant)
class VariantAdmin(ReadOnlyAdmin):
    """Each student's drawn numbers: kept as drawn, never edited here."""

    list_display = ["student", "assignment", "attempt_no", "drawn_at", "spec_sha256"]
    list_filter = ["assignment"]
    search_fields = ["student__username", "assignment__title"]
    fields = ("assignment", "student", "attempt_no", "spec_pretty", "spec_sha256", "drawn_at")
    readonly_fields = fields

    @admin.display(description=_("spec"))
    def spec_pretty(self, obj):
        return json.dumps(obj.spec, indent=1, ensure_ascii=False)


# LTI: django-lti's own admin registers the platforms (registrations, deployments: activate a
# deployment there) and our keys; these are the links to our side.
from grading.models import LtiCourse, LtiIdentity, LtiLineItem, ScorePassback  # noqa: E402


@admin.register(LtiIdentity)
class LtiIdentityAdmin(ReadOnlyAdmin):
    list_display = ("user", "issuer", "sub", "email", "last_launch_at")
    search_fields = ("user__username", "sub", "email")
    fields = ("user", "issuer", "sub", "email", "created_at", "last_launch_at")
    readonly_fields = fields


@admin.register(LtiCourse)
class LtiCourseAdmin(admin.ModelAdmin):
    list_display = ("context", "course", "created_at")
    raw_id_fields = ("context",)


@admin.register(LtiLineItem)
class LtiLineItemAdmin(admin.ModelAdmin):
    list_display = ("assignment", "lti_course", "over_max", "url")
    list_filter = ("over_max",)


@admin.register(ScorePassback)
class ScorePassbackAdmin(ReadOnlyAdmin):
    list_display = ("student", "line_item", "score_given", "score_maximum", "status", "created_at")
    list_filter = ("status",)
    fields = ("line_item", "student", "grading", "score_given", "score_maximum", "timestamp", "status",
              "http_status", "error", "requested_by", "created_at")
    readonly_fields = fields
