"""Admin: set-up of courses, members, assignments and questions; grades are read-only here."""
import json

from django import forms
from django.contrib import admin

from grading import services
from grading.models import Assignment, Course, FormulaReview, Membership, Question, Submission


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
    """The spec is checked by the model field's validator: the engine's rules and message."""

    class Meta:
        model = Assignment
        fields = "__all__"
        widgets = {"spec": forms.Textarea(attrs={"rows": 10, "cols": 80, "style": "font-family: monospace"})}


class QuestionInline(admin.TabularInline):
    model = Question
    extra = 0


@admin.register(Assignment)
class AssignmentAdmin(admin.ModelAdmin):
    form = AssignmentForm
    list_display = ["title", "course", "opens_at", "due_at", "decimals", "max_attempts", "reveal"]
    list_filter = ["course", "reveal", "accept_late"]
    search_fields = ["title", "slug", "course__code"]
    prepopulated_fields = {"slug": ["title"]}
    inlines = [QuestionInline]

    def get_readonly_fields(self, request, obj=None):
        # Graded work was marked against this spec and these decimals: changing them would show
        # old marks beside a new key. A changed problem is a new assignment.
        if obj is not None and obj.submissions.filter(state=Submission.State.SUBMITTED).exists():
            return ["spec", "decimals"]
        return []

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.submissions.filter(state=Submission.State.SUBMITTED).exists():
            return False  # grades are kept: an assignment with graded work is not deleted
        return super().has_delete_permission(request, obj)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        # Left without questions, it gets the homework's layout: the gradebook needs columns.
        services.assignment_questions_default(assignment=form.instance)


@admin.register(Submission)
class SubmissionAdmin(admin.ModelAdmin):
    list_display = ["student", "assignment", "attempt", "state", "score", "max_score", "late",
                    "submitted_at"]
    list_filter = ["state", "late", "assignment__course", "assignment"]
    search_fields = ["student__username", "student__first_name", "student__last_name",
                     "assignment__title"]
    date_hierarchy = "submitted_at"
    # Grades are append-only: the admin shows them but never edits them.
    readonly_fields = ["assignment", "student", "attempt", "answers_pretty", "state", "created_at",
                       "updated_at", "submitted_at", "late", "score", "max_score", "grader_version",
                       "report_pretty"]
    exclude = ["answers", "report"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # append-only: attempts are never removed

    @admin.display(description="answers as typed")
    def answers_pretty(self, obj):
        return json.dumps(obj.answers, indent=1, ensure_ascii=False)

    @admin.display(description="report")
    def report_pretty(self, obj):
        return json.dumps(obj.report, indent=1, ensure_ascii=False)[:20000] if obj.report else "—"


@admin.register(FormulaReview)
class FormulaReviewAdmin(admin.ModelAdmin):
    list_display = ["submission", "row", "accepted", "reviewer", "created_at"]
    list_filter = ["accepted"]
    search_fields = ["submission__student__username", "row", "note"]
    readonly_fields = ["submission", "row", "accepted", "reviewer", "note", "created_at"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # a review is undone by a new review, never by deleting the old one
