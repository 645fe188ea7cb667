"""Courses, assignments and the append-only record of what students handed in."""

import json
import secrets
import threading
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import get_language, gettext, gettext_lazy as _

from grading import engine
from grading.engine.ranges import Template, parse_template
from grading.engine.variants import VariantError, draw_many


# ---------------------------------------------------------------- append-only records
#
# Grades (the ledger), students' review requests and staff's replies, extensions, drawn variants
# and submitted attempts (with their receipts) are records: a change is a new record, never an
# edit. The models refuse here; the database refuses too (triggers, migration 0007), for code
# that goes around the ORM.



def _in_language(english: str, thai: str) -> str:
    """``thai`` for a Thai reader, ``english`` for anyone else; either falls back to the other."""
    if (get_language() or "").startswith("th"):
        return thai or english
    return english or thai

class AppendOnlyError(Exception):
    """A write that would change or delete an append-only record."""

    def __init__(self, model, action: str, detail: str = ""):
        name = model._meta.object_name
        self.model = model
        self.action = action
        super().__init__(
            f"{name} records are append-only: {action} is refused{detail}. "
            f"Append a new {name} record instead.")


class AppendOnlyQuerySet(models.QuerySet):
    """Bulk writes that would change or delete rows are refused, before any query. Inserts
    (``create``, ``bulk_create``) are what append-only means."""

    def update(self, **kwargs):
        raise AppendOnlyError(self.model, "QuerySet.update()")

    def delete(self):
        raise AppendOnlyError(self.model, "QuerySet.delete()")

    def bulk_update(self, objs, fields, batch_size=None):
        raise AppendOnlyError(self.model, "bulk_update()")

    def bulk_create(self, objs, batch_size=None, ignore_conflicts=False, update_conflicts=False,
                    update_fields=None, unique_fields=None):
        if update_conflicts:
            raise AppendOnlyError(self.model, "bulk_create(update_conflicts=True)")
        return super().bulk_create(objs, batch_size=batch_size, ignore_conflicts=ignore_conflicts,
                                   update_fields=update_fields, unique_fields=unique_fields)

    def update_or_create(self, *args, **kwargs):
        raise AppendOnlyError(self.model, "update_or_create()")


AppendOnlyManager = models.Manager.from_queryset(AppendOnlyQuerySet, "AppendOnlyManager")


class AppendOnlyModel(models.Model):
    """A record that is written once: ``save()`` inserts, and an existing row is never saved
    again or deleted (``changes_allowed`` lets a subclass name the updates its state machine
    allows)."""

    objects = AppendOnlyManager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if self._state.adding:
            if kwargs.get("force_update") or kwargs.get("update_fields") is not None:
                raise AppendOnlyError(type(self), "an update of a record not saved yet")
            # A new object given an existing pk would otherwise UPDATE that row.
            kwargs["force_insert"] = True
        else:
            self.check_change(using=kwargs.get("using"))
        return super().save(*args, **kwargs)

    save.alters_data = True  # type: ignore[attr-defined]  # Django's marker: templates never call it

    def check_change(self, using=None) -> None:
        """Raise AppendOnlyError unless saving this existing row is an allowed transition."""
        raise AppendOnlyError(type(self), "save() of an existing record")

    def delete(self, *args, **kwargs):
        raise AppendOnlyError(type(self), "delete()")

    delete.alters_data = True  # type: ignore[attr-defined]  # Django's marker: templates never call it


def PROTECT_SUBMITTED(collector, field, sub_objs, using):
    """``on_delete`` of an attempt's assignment and student: a draft goes with them, a
    submitted attempt (a record) protects them, as PROTECT does."""
    kept = sub_objs.exclude(state="draft")
    if kept:
        raise models.ProtectedError(
            f"Cannot delete some instances of model {field.remote_field.model.__name__!r} because "
            f"they are referenced through protected foreign key "
            f"'{field.model.__name__}.{field.name}' by submitted attempts (append-only records)",
            set(kept))
    models.CASCADE(collector, field, sub_objs, using)


class Course(models.Model):
    code = models.SlugField(max_length=40, unique=True)
    title = models.CharField(max_length=200)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code}: {self.title}"


class Membership(models.Model):
    class Role(models.TextChoices):
        STUDENT = "student", _("Student")
        TA = "ta", _("Teaching assistant")
        INSTRUCTOR = "instructor", _("Instructor")

    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="memberships")
    role = models.CharField(max_length=12, choices=Role.choices, default=Role.STUDENT)

    class Meta:
        ordering = ["course", "role", "user__username"]
        constraints = [
            models.UniqueConstraint(fields=["course", "user"], name="one_membership_per_course"),
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.course.code} as {self.get_role_display()}"

    @property
    def is_staff_role(self) -> bool:
        return self.role in {self.Role.TA, self.Role.INSTRUCTOR}

    @property
    def is_instructor_role(self) -> bool:
        return self.role == self.Role.INSTRUCTOR


def validate_spec(value) -> None:
    """Reject a spec the engine cannot use, with the engine's own message; any number may be a
    range or a choice (a template of per-student variants)."""
    try:
        parse_template(value)
    except engine.SpecError as exc:
        raise ValidationError(str(exc), code="invalid_spec") from exc


def random_seed() -> int:
    """A new assignment's seed: 62 random bits (a signed 64-bit column holds it)."""
    return secrets.randbits(62)


# Student keys the template's draws are tried with before it is accepted: ranges that admit
# (almost) no usable problem are refused with the engine's reasons, not met by a student.
PROBE_KEYS = tuple(f"probe-{k}" for k in range(40))


def check_draws(template: Template, seed: int, decimals: int) -> None:
    """Raise the engine's VariantError (its reasons, fit for the author) when the template's
    ranges give some probe student no problem that is not degenerate."""
    draw_many(template, seed, PROBE_KEYS, decimals=decimals)


_TEMPLATES: dict[str, Template] = {}
_TEMPLATES_LOCK = threading.Lock()


def _parsed_template(spec: object) -> Template:
    """``parse_template(spec)``, kept per process by the spec's canonical JSON text: a template is
    frozen and depends on nothing else (a spec that does not parse raises each time)."""
    try:
        text = json.dumps(spec, sort_keys=True, separators=(",", ":"))
    except (TypeError, ValueError):  # not JSON (a form's raw value): parse_template says what is wrong
        return parse_template(spec)
    with _TEMPLATES_LOCK:
        found = _TEMPLATES.get(text)
    if found is None:
        found = parse_template(spec)
        with _TEMPLATES_LOCK:
            if len(_TEMPLATES) >= 256:
                _TEMPLATES.clear()
            _TEMPLATES[text] = found
    return found


class Assignment(models.Model):
    class UnexplainedRoots(models.TextChoices):
        REVIEW = "review", _("wait for review by staff")
        CARRY = "carry", _("carried (no check)")
        NONE = "none", _("no carried credit")

    class Reveal(models.TextChoices):
        # Never while the student could still use them in another attempt (see permissions).
        AFTER_ATTEMPT = "after_attempt", _("After each attempt, once no attempt is left")
        AFTER_DUE = "after_due", _("After the due time (and any late attempt)")
        NEVER = "never", _("Never")

    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="assignments")
    # Title and statement in English and in Thai, each optional (a title in one of them at
    # least): a reader sees their language's, else the other (``shown_title``, ``shown_statement``).
    title = models.CharField(max_length=200, blank=True, help_text=_("The title in English."))
    title_th = models.CharField(max_length=200, blank=True, help_text=_("The title in Thai."))
    slug = models.SlugField(max_length=80)
    statement = models.TextField(blank=True,
                                 help_text=_("Problem statement shown to students (plain text), in English."))
    statement_th = models.TextField(blank=True, help_text=_("The problem statement in Thai (plain text)."))
    spec = models.JSONField(validators=[validate_spec],
                            help_text=_('{"weights": [[w11, w12], [w21, w22]], "biases": [b1, b2], '
                                        '"learning_rate": 1, "samples": [{"x": [..], "y": [..]}, ...]}; '
                                        'any number may be {"range": [lo, hi], "step": s} or '
                                        '{"choice": [v1, v2]}: each student then gets their own numbers.'))
    seed = models.BigIntegerField(default=random_seed, editable=False,
                                  help_text=_("Draws each student's numbers from the spec's ranges; "
                                              "never changed."))
    practice = models.BooleanField(
        default=False, help_text=_("Practice: unlimited attempts, a fresh variant on every attempt, "
                                   "expected values at once, not counted in any total."))
    published = models.BooleanField(
        default=True, help_text=_("Students see an unpublished assignment nowhere (not listed, not "
                                  "open, no draft): the authoring page creates assignments "
                                  "unpublished until their author publishes them."))
    opens_at = models.DateTimeField(default=timezone.now)
    due_at = models.DateTimeField()
    accept_late = models.BooleanField(default=False,
                                      help_text=_("Accept submissions after the due time, flagged late."))
    decimals = models.PositiveSmallIntegerField(
        default=4, help_text=_("Decimal places asked for; a value is correct within 0.51×10^-d."))
    max_attempts = models.PositiveSmallIntegerField(default=3)
    reveal = models.CharField(max_length=16, choices=Reveal.choices, default=Reveal.AFTER_DUE,
                              help_text=_("When students see the expected values."))
    carried_credit = models.FloatField(
        default=1.0,
        help_text=_("Credit (0 to 1) for a cell correct given the student's own earlier values."))
    carried_cap = models.FloatField(
        default=1.0, help_text=_("Share (0 to 1) of a round's cells that may earn carried credit; "
                                 "lower it to limit what follow-through can be worth."))
    not_chained_credit = models.FloatField(
        default=0.5, help_text=_("Credit (0 to 1) for a Q1 formula that is right but skips the chain."))
    unexplained_roots = models.CharField(
        max_length=8, choices=UnexplainedRoots.choices, default=UnexplainedRoots.REVIEW,
        help_text=_("What happens to the cells carried from a wrong value that no honest slip "
                    "explains (an invented or copied value): they wait for staff review, are carried "
                    "as before, or earn no carried credit."))
    grace_seconds = models.PositiveIntegerField(
        default=120, help_text=_("A submission that arrives this many seconds after the due time is "
                                 "still on time (a busy server must not make on-time work late)."))
    auto_submit = models.BooleanField(
        default=False, help_text=_("At the due time, submit the draft of every student who never "
                                   "submitted (it counts as an attempt)."))

    class Meta:
        ordering = ["course", "due_at", "title"]
        constraints = [
            models.UniqueConstraint(fields=["course", "slug"], name="assignment_slug_per_course"),
            models.CheckConstraint(condition=Q(decimals__gte=1) & Q(decimals__lte=8),
                                   name="decimals_1_to_8"),
            models.CheckConstraint(condition=Q(max_attempts__gte=1), name="at_least_one_attempt"),
            models.CheckConstraint(condition=~Q(title="") | ~Q(title_th=""), name="assignment_has_a_title"),
            models.CheckConstraint(condition=Q(due_at__gt=models.F("opens_at")),
                                   name="due_after_opening"),
            models.CheckConstraint(condition=Q(carried_credit__gte=0) & Q(carried_credit__lte=1),
                                   name="carried_credit_0_to_1"),
            models.CheckConstraint(condition=Q(carried_cap__gte=0) & Q(carried_cap__lte=1),
                                   name="carried_cap_0_to_1"),
            models.CheckConstraint(condition=Q(not_chained_credit__gte=0) & Q(not_chained_credit__lte=1),
                                   name="not_chained_credit_0_to_1"),
        ]

    def __str__(self) -> str:
        return f"{self.course.code} · {self.shown_title}"

    def get_absolute_url(self) -> str:
        return reverse("grading:assignment", args=[self.pk])

    @property
    def shown_title(self) -> str:
        """The title in the reader's language (the active one), else in the other."""
        return _in_language(self.title, self.title_th)

    @property
    def shown_statement(self) -> str:
        """The statement in the reader's language, else in the other; "" when there is none."""
        return _in_language(self.statement, self.statement_th)

    def clean(self) -> None:
        super().clean()
        try:
            template = parse_template(self.spec)
        except engine.SpecError:
            return  # the field's validator says what is wrong
        if template.free and isinstance(self.decimals, int) and 1 <= self.decimals <= 8:
            try:
                check_draws(template, self.seed, self.decimals)
            except VariantError as exc:
                raise ValidationError({"spec": str(exc)}, code="degenerate") from exc

    @property
    def template(self) -> Template:
        """The spec as a template: its ranged numbers and the spec at their lowest values (parsed
        once per instance and spec: a submit reads it several times; and once per process for
        the same JSON: every page of the assignment reads it again)."""
        cached = self.__dict__.get("_template")
        if cached is None or cached[0] is not self.spec:
            cached = self.__dict__["_template"] = (self.spec, _parsed_template(self.spec))
        return cached[1]

    @property
    def has_variants(self) -> bool:
        """Whether the spec has ranges or choices: each student then has their own numbers."""
        return bool(self.template.free)

    @property
    def shape_spec(self) -> engine.Spec:
        """A problem of the assignment's network, rounds and loss (the template at its lowest
        values): for what depends on the shape only (the cells typed, Q1's rows, the questions),
        never for numbers a student sees or is graded on."""
        return self.template.low

    @property
    def parsed_spec(self) -> engine.Spec:
        """The problem every student shares. An assignment with ranges has none: each student's
        problem is their variant (grading.services.variants), and asking for it here is a bug."""
        if self.has_variants:
            raise ValueError(f"{self} gives each student their own numbers: use the student's variant")
        return self.template.low

    def has_opened(self, now=None) -> bool:
        """Whether students may see and work on it: published, and opened by the server's clock."""
        return self.published and (now or timezone.now()) >= self.opens_at

    def is_open(self, now=None) -> bool:
        """Whether a submission would be taken now: opened, and before due or late accepted."""
        now = now or timezone.now()
        return self.published and self.opens_at <= now and (now <= self.due_at or self.accept_late)

    def is_past_due(self, now=None) -> bool:
        """Whether the due time has passed (a submission now is late)."""
        return (now or timezone.now()) > self.due_at

    @property
    def grace(self) -> timedelta:
        return timedelta(seconds=self.grace_seconds)


class Question(models.Model):
    class Kind(models.TextChoices):
        FORMULAS = "formulas", _("Forward and backward formulas")
        ROUND = "round", _("A round's table")
        PLOT = "plot", _("Loss plot")

    assignment = models.ForeignKey(Assignment, on_delete=models.CASCADE, related_name="questions")
    number = models.PositiveSmallIntegerField()
    kind = models.CharField(max_length=10, choices=Kind.choices)
    round = models.PositiveSmallIntegerField(null=True, blank=True,
                                             help_text=_("The round a table question is about."))
    points = models.FloatField()
    extra_credit = models.BooleanField(default=False)

    class Meta:
        ordering = ["assignment", "number"]
        constraints = [
            models.UniqueConstraint(fields=["assignment", "number"], name="question_number_unique"),
            models.CheckConstraint(condition=Q(points__gte=0), name="points_not_negative"),
            models.CheckConstraint(
                condition=(Q(kind="round") & Q(round__isnull=False) & Q(round__gte=1))
                | (~Q(kind="round") & Q(round__isnull=True)),
                name="round_only_for_table_questions"),
        ]

    def __str__(self) -> str:
        return f"Q{self.number} ({self.get_kind_display()}, {self.points:g} pts)"

    def clean(self) -> None:
        if self.kind == self.Kind.ROUND and self.round and self.assignment_id:
            rounds = len(self.assignment.spec.get("samples", [])) if isinstance(self.assignment.spec, dict) else 0
            if self.round > rounds:
                raise ValidationError({"round": gettext("The spec has %(n)s rounds.") % {"n": rounds}},
                                      code="no_such_round")


class Variant(AppendOnlyModel):
    """One student's concrete problem, drawn from the assignment's ranges when they first open it
    and never drawn again (the template may change; their numbers do not). Append-only."""

    # PROTECT: an assignment or a student with drawn numbers is kept (see AppendOnlyModel).
    assignment = models.ForeignKey(Assignment, on_delete=models.PROTECT, related_name="variants")
    student = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                related_name="variants")
    attempt_no = models.PositiveSmallIntegerField(
        default=0, help_text=_("0: the student's problem; n: attempt n's of a practice assignment."))
    spec = models.JSONField(help_text=_("The concrete spec, numbers only."))
    spec_sha256 = models.CharField(max_length=64, help_text=_("SHA-256 of the spec's canonical JSON."))
    drawn_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["assignment", "student", "attempt_no"]
        constraints = [
            models.UniqueConstraint(fields=["assignment", "student", "attempt_no"],
                                    name="one_variant_per_student_attempt"),
        ]

    def __str__(self) -> str:
        which = f", attempt {self.attempt_no}" if self.attempt_no else ""
        return f"Variant of {self.student} · {self.assignment}{which}"

    @cached_property
    def parsed_spec(self) -> engine.Spec:
        return engine.parse_spec(self.spec)


class Submission(AppendOnlyModel):
    """One attempt: what a student typed and when; its grades are ``Grading`` records.

    A draft is the student's scratch: saved again at every autosave, and submitted once. A
    submitted attempt (with its receipt) is a record: never saved again or deleted.
    """

    class State(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SUBMITTED = "submitted", _("Submitted")

    # A draft goes with its assignment or student; a submitted attempt protects them.
    assignment = models.ForeignKey(Assignment, on_delete=PROTECT_SUBMITTED, related_name="submissions")
    student = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=PROTECT_SUBMITTED,
                                related_name="submissions")
    attempt = models.PositiveSmallIntegerField()
    answers = models.JSONField(default=dict, blank=True, help_text=_("Exactly as typed."))
    state = models.CharField(max_length=10, choices=State.choices, default=State.DRAFT)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    submitted_at = models.DateTimeField(null=True, blank=True,
                                        help_text=_("When the submission arrived at the server."))
    late = models.BooleanField(default=False)
    receipt = models.CharField(max_length=64, blank=True,
                               help_text=_("SHA-256 of the answers as submitted."))
    submit_token = models.CharField(max_length=64, null=True, blank=True, unique=True,
                                    help_text=_("The submitting page's token: a resent submit finds "
                                                "this attempt instead of making another."))
    auto_submitted = models.BooleanField(default=False,
                                         help_text=_("Submitted by the server at the due time."))
    # RESTRICT: a variant is never deleted (append-only); nor is an attempt's problem.
    variant = models.ForeignKey(Variant, on_delete=models.RESTRICT, null=True, blank=True,
                                related_name="submissions",
                                help_text=_("The problem this attempt answers; blank: the assignment's "
                                            "shared spec."))

    class Meta:
        ordering = ["assignment", "student", "-attempt"]
        constraints = [
            models.UniqueConstraint(fields=["assignment", "student", "attempt"],
                                    name="one_row_per_attempt"),
            models.UniqueConstraint(fields=["assignment", "student"], condition=Q(state="draft"),
                                    name="one_draft_per_student"),
            models.CheckConstraint(condition=Q(state="draft") | Q(submitted_at__isnull=False),
                                   name="submitted_has_time"),
        ]

    def __str__(self) -> str:
        return f"{self.student} · {self.assignment} · attempt {self.attempt} ({self.state})"

    def get_absolute_url(self) -> str:
        return reverse("grading:submission", args=[self.pk])

    @property
    def is_draft(self) -> bool:
        return self.state == self.State.DRAFT

    def remember_locked_row(self) -> None:
        """Note that this copy was just read under a row lock the current transaction holds
        (SELECT ... FOR UPDATE; on SQLite an IMMEDIATE transaction): the next ``save`` in that
        transaction judges the change against it without reading the row again. Used once, and
        forgotten when the transaction commits (the database's trigger guards the rest)."""
        from django.db import transaction

        self._locked_row = {f: getattr(self, f) for f in SUBMISSION_FIELDS}
        transaction.on_commit(lambda: self.__dict__.pop("_locked_row", None), using=self._state.db or "default")

    def _row_as_locked(self, alias: str) -> dict | None:
        from django.db import connections

        noted = self.__dict__.pop("_locked_row", None)
        return noted if connections[alias].in_atomic_block else None

    def check_change(self, using=None) -> None:
        """Allow the transitions of ``SUBMISSION_TRANSITIONS`` only, judged against the row as
        stored (not as this copy was read: another request may have submitted it since), or as
        read under the current transaction's row lock (``remember_locked_row``)."""
        model = type(self)
        alias = using or self._state.db or "default"
        stored = self._row_as_locked(alias)
        if stored is None:
            stored = (model._base_manager.using(alias).filter(pk=self.pk).values(*SUBMISSION_FIELDS).first())
        if stored is None:
            raise AppendOnlyError(model, "save() of a deleted or unknown row")
        allowed = SUBMISSION_TRANSITIONS.get((stored["state"], self.state))
        if allowed is None:
            raise AppendOnlyError(model, f"save() of an attempt from '{stored['state']}' to '{self.state}'",
                                  " (only a draft is saved again, and submitted once)")
        changed = {f for f in SUBMISSION_FIELDS if getattr(self, f) != stored[f]} - allowed
        if changed:
            raise AppendOnlyError(model, f"changing {', '.join(sorted(changed))} of a "
                                         f"{stored['state']} attempt")

    def delete(self, *args, **kwargs):
        if self.pk is not None and not type(self)._base_manager.filter(
                pk=self.pk, state=self.State.DRAFT).exists():
            raise AppendOnlyError(type(self), "delete() of a submitted attempt")
        return models.Model.delete(self, *args, **kwargs)

    delete.alters_data = True  # type: ignore[attr-defined]  # Django's marker: templates never call it


# Every update of an existing attempt the services make (grading/services/submissions.py), as
# (stored state, new state) -> the fields it may change. A submitted attempt has none: its
# grades are Grading records, a regrade a new record, nothing is written back on it.
SUBMISSION_DRAFT_EDIT = frozenset({"answers", "variant_id", "updated_at"})  # an autosave
SUBMISSION_SUBMIT = frozenset({  # the draft handed in (a student's submit, or the auto-submit)
    "answers", "attempt", "variant_id", "state", "submitted_at", "late", "receipt", "submit_token",
    "auto_submitted", "updated_at"})
SUBMISSION_TRANSITIONS: dict[tuple[str, str], frozenset[str]] = {
    (Submission.State.DRAFT, Submission.State.DRAFT): SUBMISSION_DRAFT_EDIT,
    (Submission.State.DRAFT, Submission.State.SUBMITTED): SUBMISSION_SUBMIT,
}
SUBMISSION_FIELDS = tuple(f.attname for f in Submission._meta.concrete_fields if not f.primary_key)


class DraftVersion(AppendOnlyModel):
    """One saved state of a draft: what the draft held after save number ``number`` (an
    autosave, the Save button, or a restore of an earlier version).

    Never edited (the model and the database refuse an UPDATE); *prunable*: a draft keeps its
    last ``DRAFT_VERSIONS_KEPT`` versions and the save that makes a newer one deletes the oldest
    beyond it (``DraftVersion.prune``, called by the save service only), so a
    student typing for weeks does not grow the table without end. A version is history, not a
    record of what was handed in (the submitted attempt and its receipt are); a draft's versions
    go with it, and stay with the attempt it became. Numbers keep counting after a prune: the
    draft's version is its newest number, what a save's ``base`` is compared with.
    """

    class Kind(models.TextChoices):
        SAVE = "save", _("Save")
        RESTORE = "restore", _("Restore")

    draft = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="draft_versions")
    number = models.PositiveIntegerField()
    answers = models.JSONField(default=dict, blank=True)
    cells = models.PositiveIntegerField(default=0, help_text=_("How many answers were filled."))
    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.SAVE)
    restored_from = models.PositiveIntegerField(null=True, blank=True)
    saved_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["draft", "-number"]
        constraints = [models.UniqueConstraint(fields=["draft", "number"], name="one_row_per_draft_version")]

    def __str__(self) -> str:
        return f"draft {self.draft_id} · version {self.number}"

    @classmethod
    def prune(cls, draft: Submission, *, up_to: int) -> int:
        """Delete the draft's versions numbered ``up_to`` and below (the save service's bound);
        the only deletion a version knows (``objects`` refuses every other)."""
        return cls._base_manager.filter(draft=draft, number__lte=up_to).delete()[0]

    prune.__func__.alters_data = True  # type: ignore[attr-defined]  # Django's marker: templates never call it


DRAFT_VERSIONS_KEPT = 50


class Grading(AppendOnlyModel):
    """One grading of an attempt: a record of the ledger, never edited. The latest one is the grade.

    Automatic and regrade records hold the grader's report; override and review records hold the
    changes staff made (``changes``) and the report with them applied, so a page reads one row.
    """

    class Kind(models.TextChoices):
        AUTO = "auto", _("Automatic")
        REGRADE = "regrade", _("Regrade")
        OVERRIDE = "override", _("Override")
        REVIEW = "review", _("Review")

    submission = models.ForeignKey(Submission, on_delete=models.PROTECT, related_name="gradings")
    sequence = models.PositiveIntegerField(
        help_text=_("1 for the first grading of the attempt, then 2, ..."))
    kind = models.CharField(max_length=10, choices=Kind.choices)
    based_on = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True,
                                 related_name="+", help_text=_("The grade this record changes."))
    report = models.JSONField(help_text=_("The report with every change up to this record applied."))
    score = models.FloatField()
    max_score = models.FloatField()
    scores = models.JSONField(default=dict, blank=True,
                              help_text=_("Question id -> score, for lists that show no report."))
    needs_review = models.BooleanField(default=False, help_text=_("Q1 rows still undecided."))
    changes = models.JSONField(default=list, blank=True, help_text=_("What staff changed (overrides)."))
    grader_version = models.CharField(max_length=20)
    spec_hash = models.CharField(max_length=64,
                                 help_text=_("SHA-256 of the spec and settings graded against."))
    config = models.JSONField(default=dict, blank=True, help_text=_("The grading settings used."))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True,
                                   blank=True, related_name="gradings_made")
    created_at = models.DateTimeField(default=timezone.now)
    reason = models.TextField(blank=True, max_length=2000)
    note = models.TextField(blank=True, max_length=2000, help_text=_("Shown to the student."))

    class Meta:
        ordering = ["submission", "sequence"]
        constraints = [
            # Two staff writing at once cannot both add the next record: one of them must retry.
            models.UniqueConstraint(fields=["submission", "sequence"], name="one_record_per_step"),
            models.CheckConstraint(
                condition=Q(kind__in=["auto", "regrade"])
                | (Q(created_by__isnull=False) & ~Q(reason="") & Q(based_on__isnull=False)),
                name="staff_change_has_who_why_and_base"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.sequence} of submission {self.submission_id}: {self.score:g}"


class ReviewRequest(AppendOnlyModel):
    """A student asks staff to look at a cell, a question or the whole attempt again."""

    submission = models.ForeignKey(Submission, on_delete=models.PROTECT, related_name="review_requests")
    target = models.CharField(max_length=60, blank=True,
                              help_text=_("A cell id, a question id, or blank for the attempt."))
    message = models.TextField(max_length=2000)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   related_name="review_requests")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"Request on submission {self.submission_id} ({self.target or 'attempt'})"


class ReviewReply(AppendOnlyModel):
    """Staff's answer to a request: a changed grade (an override) or no change, with a reply."""

    class Outcome(models.TextChoices):
        CHANGED = "changed", _("Grade changed")
        NO_CHANGE = "no_change", _("No change")

    request = models.OneToOneField(ReviewRequest, on_delete=models.PROTECT, related_name="reply")
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    grading = models.ForeignKey(Grading, on_delete=models.PROTECT, null=True, blank=True,
                                related_name="+")
    message = models.TextField(max_length=2000)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   related_name="review_replies")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(outcome="no_change") | Q(grading__isnull=False),
                                   name="changed_reply_has_grading"),
        ]

    def __str__(self) -> str:
        return f"Reply to request {self.request_id}: {self.get_outcome_display()}"


class Extension(AppendOnlyModel):
    """A per-student exception: a later due time and/or extra attempts. The latest record counts."""

    # PROTECT: a student's granted terms are kept (see AppendOnlyModel).
    assignment = models.ForeignKey(Assignment, on_delete=models.PROTECT, related_name="extensions")
    student = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                related_name="extensions")
    due_at = models.DateTimeField(null=True, blank=True,
                                  help_text=_("This student's due time; blank keeps the assignment's."))
    extra_attempts = models.PositiveSmallIntegerField(default=0)
    reason = models.TextField(max_length=2000)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   related_name="extensions_granted")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["assignment", "student", "pk"]
        constraints = [
            models.CheckConstraint(condition=~Q(reason=""), name="extension_has_reason"),
        ]

    def __str__(self) -> str:
        return f"Extension for {self.student} on {self.assignment}"


class AssignmentChange(AppendOnlyModel):
    """A staff change to an assignment: made, edited (settings, problem, questions), published or
    unpublished; who, when, each changed field before and after, and why. Never edited."""

    class Kind(models.TextChoices):
        CREATE = "create", _("Created")
        EDIT = "edit", _("Edited")
        PUBLISH = "publish", _("Published")
        UNPUBLISH = "unpublish", _("Unpublished")

    # PROTECT: an assignment's history is kept with it (see AppendOnlyModel).
    assignment = models.ForeignKey(Assignment, on_delete=models.PROTECT, related_name="changes")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    changes = models.JSONField(default=dict, blank=True,
                               help_text=_("Each changed field: its value before and after."))
    reason = models.TextField(max_length=2000, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="assignment_changes")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["assignment", "-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.assignment} · {self.created_at:%Y-%m-%d %H:%M}"


class RegradeJob(models.Model):
    """A class-sized regrade (or its dry run) run by a task worker, with its progress and result."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")
        REFUSED = "refused", _("Refused: changed since the dry run")

    assignment = models.ForeignKey(Assignment, on_delete=models.CASCADE, related_name="regrade_jobs")
    dry_run = models.BooleanField(default=True)
    reviewed = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        help_text=_("The dry run whose diff this regrade applies: exactly, or not at all."))
    reason = models.TextField(blank=True, max_length=2000)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                     related_name="regrade_jobs")
    created_at = models.DateTimeField(default=timezone.now)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    total = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)
    changed = models.PositiveIntegerField(default=0)
    result = models.JSONField(default=dict, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        what = "Dry run" if self.dry_run else "Regrade"
        return f"{what} of {self.assignment} ({self.get_status_display()})"


class StaffJob(models.Model):
    """A long staff action run by a task worker (a roster import, a large class's gradebook
    export), with its progress and result. A progress row, updated in place as the job goes (like
    RegradeJob); not a record.

    ``secret`` holds the passwords a roster import made, sealed with the site's secret key, until
    they are downloaded once or the job's page expires; then it is emptied for good. ``output``
    holds the file an export built (the CSV's text, byte order mark included) until the job's
    page expires; then it is emptied too.
    """

    class Kind(models.TextChoices):
        ROSTER = "roster", _("Roster import")
        EXPORT = "export", _("Gradebook export")

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    class Secret(models.TextChoices):
        NONE = "none", _("No passwords")
        HELD = "held", _("Passwords waiting to be downloaded")
        TAKEN = "taken", _("Passwords downloaded")
        EXPIRED = "expired", _("Passwords expired")

    kind = models.CharField(max_length=10, choices=Kind.choices)
    assignment = models.ForeignKey(Assignment, on_delete=models.CASCADE, related_name="staff_jobs")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                     related_name="staff_jobs")
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    options = models.JSONField(default=dict, blank=True)
    payload = models.TextField(blank=True)  # the job's input (the roster CSV); emptied when it ends
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    total = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)
    result = models.JSONField(default=dict, blank=True)
    secret = models.TextField(blank=True)
    secret_state = models.CharField(max_length=10, choices=Secret.choices, default=Secret.NONE)
    secret_taken_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)
    output = models.TextField(blank=True)  # the file an export built; emptied when the page expires

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} for {self.assignment} ({self.get_status_display()})"


class WorkerHeartbeat(models.Model):
    """A task worker (``manage.py grading_worker``) alive: one row per worker, its beat renewed
    every few seconds, with the task it is running. A worker whose beat is old is gone (killed,
    its machine down): the tasks it held are handed to another after their lease."""

    worker_id = models.CharField(max_length=64, unique=True)
    host = models.CharField(max_length=255, blank=True)
    pid = models.PositiveIntegerField(default=0)
    started_at = models.DateTimeField(default=timezone.now)
    beat_at = models.DateTimeField(default=timezone.now, db_index=True)
    task_id = models.CharField(max_length=64, blank=True)  # the task it is running, "" when idle

    class Meta:
        ordering = ["-beat_at"]

    def __str__(self) -> str:
        return f"Worker {self.worker_id} on {self.host} (pid {self.pid})"


# ---------------------------------------------------------------- LTI 1.3 (the LMS side)
#
# django-lti (``lti_tool``) keeps the platform's registrations, deployments, contexts and keys;
# these records tie them to ours: a platform account to a user, an LMS course to a Course, an
# assignment to its line item, and each score sent.


class LtiIdentity(models.Model):
    """A platform's account (issuer + ``sub``) signed in as one of our users; the e-mail is kept
    to show staff who it is, never to find the user."""

    issuer = models.CharField(max_length=255)
    sub = models.CharField(max_length=255)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="lti_identities")
    email = models.EmailField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_launch_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["issuer", "sub"], name="one_user_per_lti_sub")]

    def __str__(self) -> str:
        return f"{self.sub} at {self.issuer}"


class LtiCourse(models.Model):
    """An LMS course (django-lti's context) and the Course it is here."""

    context = models.OneToOneField("lti_tool.LtiContext", on_delete=models.CASCADE,
                                   related_name="grading_course")
    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="lti_courses")
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.context} -> {self.course.code}"


class LtiLineItem(models.Model):
    """An assignment's column in an LMS course's gradebook (AGS line item)."""

    class OverMax(models.TextChoices):
        CAP = "cap", _("capped at the maximum")
        RAW = "raw", _("the raw score (the platform must allow it)")

    lti_course = models.ForeignKey(LtiCourse, on_delete=models.CASCADE, related_name="line_items")
    assignment = models.ForeignKey(Assignment, on_delete=models.CASCADE, related_name="lti_line_items")
    url = models.URLField(max_length=500, blank=True, help_text=_("The line item's URL on the platform."))
    resource_link_id = models.CharField(max_length=255, blank=True)
    over_max = models.CharField(max_length=4, choices=OverMax.choices, default=OverMax.CAP,
                                help_text=_("What is sent when extra credit takes a score over the maximum."))
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["lti_course", "assignment"],
                                               name="one_line_item_per_assignment_and_lms_course")]

    def __str__(self) -> str:
        return f"{self.assignment} in {self.lti_course}"


class LtiNonce(models.Model):
    """A launch's nonce, once used: the same id_token posted again is a replay."""

    issuer = models.CharField(max_length=255)
    nonce = models.CharField(max_length=255)
    used_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["issuer", "nonce"], name="lti_nonce_used_once")]

    def __str__(self) -> str:
        return self.nonce


class ScorePassback(AppendOnlyModel):
    """One attempt to send a student's current grade to the LMS (a new row per try)."""

    class Status(models.TextChoices):
        SENT = "sent", _("sent")
        FAILED = "failed", _("failed")

    line_item = models.ForeignKey(LtiLineItem, on_delete=models.PROTECT, related_name="passbacks")
    student = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                related_name="score_passbacks")
    grading = models.ForeignKey("Grading", on_delete=models.PROTECT, null=True, blank=True,
                                related_name="passbacks")
    score_given = models.FloatField()
    score_maximum = models.FloatField()
    timestamp = models.DateTimeField(help_text=_("The score's timestamp as sent (strictly increasing)."))
    status = models.CharField(max_length=8, choices=Status.choices)
    http_status = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True,
                                     blank=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"{self.student} {self.score_given:g}/{self.score_maximum:g} {self.status}"


class LtiRosterSync(models.Model):
    """A roster sync from the LMS (NRPS): who was added, dropped, changed. A job row, updated as
    it runs (the memberships it changes say so in ``result``)."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("queued")
        DONE = "done", _("done")
        FAILED = "failed", _("failed")

    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="lti_roster_syncs")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True,
                                     blank=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.QUEUED)
    result = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.course.code} roster sync {self.created_at:%Y-%m-%d %H:%M}"
