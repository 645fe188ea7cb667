"""Who may see what: one small function per rule, one place for all of them.

Every query a student can trigger goes through these helpers, scoped to that student;
anything that is not theirs raises Http404, so its existence is not revealed. A superuser counts
as an instructor of every course (they see and run every course's staff pages), never as a
student.
"""

from django.db.models import Exists, F, FilteredRelation, OuterRef, Q, Subquery
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils import timezone

from grading.models import Assignment, Course, Grading, Membership, Submission, Variant
from grading.selectors.people import last_due, student_terms

STAFF_ROLES = (Membership.Role.TA, Membership.Role.INSTRUCTOR)


def role_in(user, course: Course) -> str | None:
    """The user's role in the course, or None (asked once per request: the user object is the
    request's own, and a page asks several times)."""
    roles = user.__dict__.setdefault("_course_roles", {})
    if course.pk not in roles:
        roles[course.pk] = (Membership.objects.filter(user=user, course=course)
                            .values_list("role", flat=True).first())
    return roles[course.pk]


def is_course_staff(user, course: Course) -> bool:
    """True for the course's instructors and TAs, and for superusers."""
    return user.is_superuser or role_in(user, course) in STAFF_ROLES


def _any_assignment(assignment_id: int) -> Assignment:
    return get_object_or_404(Assignment.objects.select_related("course"), pk=assignment_id)


def access_assignment_as_member(user, assignment_id: int) -> Assignment:
    """An assignment of one of the user's courses (any, for a superuser), or 404."""
    if user.is_superuser:
        return _any_assignment(assignment_id)
    # The user's role comes with the assignment (one query, not two): kept for role_in. A join
    # on the user's one membership of the course (filtered first, so the role is read from that
    # same row), not a subquery: half the time to build.
    assignment = get_object_or_404(Assignment.objects.select_related("course")
                                   .filter(course__memberships__user=user)
                                   .annotate(member_role=F("course__memberships__role")), pk=assignment_id)
    user.__dict__.setdefault("_course_roles", {})[assignment.course_id] = getattr(assignment, "member_role")
    if not assignment.published and not is_course_staff(user, assignment.course):
        raise Http404("No such assignment.")  # unpublished: its students see nothing of it
    return assignment


def access_assignment_as_student(user, assignment_id: int) -> Assignment:
    """A published assignment of a course where the user is a student, or 404."""
    assignment = get_object_or_404(Assignment.objects.select_related("course"), pk=assignment_id, published=True,
                                   course__memberships__user=user,
                                   course__memberships__role=Membership.Role.STUDENT)
    user.__dict__.setdefault("_course_roles", {})[assignment.course_id] = Membership.Role.STUDENT
    return assignment


def access_assignment_as_staff(user, assignment_id: int) -> Assignment:
    """An assignment of a course where the user is an instructor or TA (any, for a superuser), or 404."""
    if user.is_superuser:
        return _any_assignment(assignment_id)
    return get_object_or_404(Assignment.objects.select_related("course"), pk=assignment_id,
                             course__memberships__user=user,
                             course__memberships__role__in=STAFF_ROLES)


def access_submission(user, submission_id: int) -> Submission:
    """A submission the user may read: their own, or any in a course they teach; else 404."""
    # The user's role in the course (None: not a member) comes with the submission, one query
    # and not two: kept for role_in. A student who left the course still reads their own.
    mine = FilteredRelation("assignment__course__memberships", condition=Q(assignment__course__memberships__user=user))
    submission = get_object_or_404(
        Submission.objects.select_related("assignment__course", "student", "variant")
        .annotate(mine=mine, member_role=F("mine__role")), pk=submission_id)
    user.__dict__.setdefault("_course_roles", {})[submission.assignment.course_id] = getattr(submission, "member_role")
    if not submission.is_draft and (submission.student_id == user.pk
                                    or is_course_staff(user, submission.assignment.course)):
        return submission
    raise Http404("No such submission.")


def submission_graded(user, submission_id: int) -> bool:
    """Whether an attempt the user may read (as ``access_submission``: their own, or any in a
    course they teach; else 404) has a grade yet, in one query with the reader's role: the
    feedback page asks every few seconds while an attempt is being graded."""
    role = Membership.objects.filter(course=OuterRef("assignment__course"), user=user).values("role")[:1]
    row = (Submission.objects.filter(pk=submission_id).exclude(state=Submission.State.DRAFT)
           .annotate(graded=Exists(Grading.objects.filter(submission=OuterRef("pk"))), reader_role=Subquery(role))
           .values_list("student_id", "reader_role", "graded").first())
    if row is None:
        raise Http404("No such submission.")
    student_id, reader_role, graded = row
    if student_id == user.pk or user.is_superuser or reader_role in STAFF_ROLES:
        return bool(graded)
    raise Http404("No such submission.")


def access_submission_as_staff(user, submission_id: int) -> Submission:
    """A submitted attempt in a course the user teaches (to review it); else 404."""
    submission = access_submission(user, submission_id)
    if not is_course_staff(user, submission.assignment.course):
        raise Http404("No such submission.")
    return submission


def access_submission_history_as_staff(user, submission_id: int) -> Submission:
    """A draft or a submitted attempt in a course the user teaches (its saved draft versions,
    read-only); else 404. A student never reaches another's draft this way, nor their own."""
    submission = get_object_or_404(
        Submission.objects.select_related("assignment__course", "student"), pk=submission_id)
    if not is_course_staff(user, submission.assignment.course):
        raise Http404("No such submission.")
    return submission


def may_see_expected(user, submission: Submission, now=None) -> bool:
    """Staff always see expected values; a student per the reveal rule, and never while they
    could still copy them into another attempt (more attempts left, or late work accepted).

    "After the due time" means after the last due time of the class, extensions included: a
    student must not read the key to a classmate who still has a day to submit. Practice shows
    them at once: it counts for nothing, and with ranges the next attempt is another problem.
    """
    assignment = submission.assignment
    if is_course_staff(user, assignment.course):
        return True
    if assignment.practice:
        return True
    if assignment.reveal == Assignment.Reveal.NEVER:
        return False
    if assignment.reveal == Assignment.Reveal.AFTER_DUE:
        now = now or timezone.now()
        # Up to the assignment's own due time no extension can matter (the last due time is
        # never earlier): the class's extensions are read only after it.
        if now <= assignment.due_at + assignment.grace or now <= last_due(assignment):
            return False
    return not may_still_submit(user, assignment, now)


def may_still_submit(user, assignment: Assignment, now=None) -> bool:
    """Whether the student could hand in another attempt now (open, attempts left), by their
    own terms (an extension counts)."""
    terms = student_terms(assignment, user)
    if not terms.is_open(now):
        return False
    if assignment.practice:
        return True  # unlimited attempts
    used = Submission.objects.filter(assignment=assignment, student=user,
                                     state=Submission.State.SUBMITTED).count()
    return used < terms.max_attempts


def is_instructor(user, course: Course) -> bool:
    """True for the course's instructors and superusers (authoring, extensions, rosters and
    class regrades are theirs)."""
    return user.is_superuser or role_in(user, course) == Membership.Role.INSTRUCTOR


def access_assignment_as_instructor(user, assignment_id: int) -> Assignment:
    """An assignment of a course where the user is an instructor (any, for a superuser), or 404."""
    if user.is_superuser:
        return _any_assignment(assignment_id)
    return get_object_or_404(Assignment.objects.select_related("course"), pk=assignment_id,
                             course__memberships__user=user,
                             course__memberships__role=Membership.Role.INSTRUCTOR)


def access_own_submission(user, submission_id: int) -> Submission:
    """A submitted attempt of the user's own (to ask about it), or 404."""
    submission = access_submission(user, submission_id)
    if submission.student_id != user.pk:
        raise Http404("No such submission.")
    return submission


def access_course_as_instructor(user, code: str) -> Course:
    """A course the user is an instructor of (any, for a superuser), by its code; else 404."""
    if user.is_superuser:
        return get_object_or_404(Course, code=code)
    return get_object_or_404(Course, code=code, memberships__user=user,
                             memberships__role=Membership.Role.INSTRUCTOR)


def access_course_as_staff(user, code: str) -> Course:
    """A course the user is an instructor or TA of (any, for a superuser), by its code; else 404."""
    if user.is_superuser:
        return get_object_or_404(Course, code=code)
    return get_object_or_404(Course, code=code, memberships__user=user,
                             memberships__role__in=[Membership.Role.INSTRUCTOR, Membership.Role.TA])


def access_variant(user, assignment: Assignment, variant_id: int) -> Variant:
    """A student's variant of an assignment, for the course's staff only; else 404."""
    if not is_course_staff(user, assignment.course):
        raise Http404("No such variant.")
    return get_object_or_404(Variant.objects.select_related("student"), pk=variant_id,
                             assignment=assignment)
