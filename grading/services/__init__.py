"""Every write goes through here: drafts, submissions, the grade ledger, regrades, people.

Views check access and parse forms, then call one of these; the reads they need are in
``grading.selectors``. Each write validates before it saves; attempts and grades are
append-only (a resubmission is a new attempt, a change of grade a new ``Grading`` record).
"""

from grading.grade.ledger import Change
from grading.services.authoring import (GRADED_ON, Authored, QuestionPoints, assignment_author,
                                        assignment_change_record, assignment_publish, assignment_unpublish)
from grading.services.assignments import (assignment_create, assignment_questions_default,
                                          assignment_schedule, grading_config, spec_hash)
from grading.services.receipts import receipt_send
from grading.services.grades import (GradeConflict, formula_review_create, grading_create_auto, root_review_create,
                                     grading_override, grading_withdraw, review_request_answer, review_request_create)
from grading.services.exports import export_download_record, export_job_create, export_job_run
from grading.services.people import (RosterResult, SealBroken, course_ensure, extension_create, membership_ensure,
                                     roster_import, roster_job_create, roster_passwords_take,
                                     staff_job_run, staff_jobs_expire, user_ensure)
from grading.services.regrade import (RegradeOutcome, RegradeRefused, regrade_assignment, regrade_attempt,
                                      regrade_job_create, regrade_job_run)
from grading.services.submissions import (FIELD_MAX_CHARS, Accepted, DraftConflict, DraftSaved,
                                          DraftVersionMissing,
                                          SubmissionError, answer_names, draft_restore, draft_save, answers_digest,
                                          check_may_submit, clean_answers, opens_message,
                                          submission_accept, submission_draft, submission_grade,
                                          submission_save_draft, submission_submit, submissions_auto_submit,
                                          submitted_count)
from grading.services.variants import (Problem, VariantError, page_attempt, problem_for,
                                       spec_digest, student_key, student_problem,
                                       variant_attempt_no, variant_draw)

__all__ = [
    "receipt_send",
    "export_download_record", "export_job_create", "export_job_run",
    "GRADED_ON", "Authored", "QuestionPoints", "SealBroken", "assignment_author", "assignment_change_record", "assignment_publish",
    "assignment_unpublish",
    "Problem", "VariantError", "page_attempt", "problem_for", "spec_digest", "student_key", "student_problem",
    "variant_attempt_no", "variant_draw",
    "FIELD_MAX_CHARS", "Accepted", "DraftConflict", "DraftSaved", "DraftVersionMissing", "answer_names", "draft_restore", "draft_save", "Change", "GradeConflict", "RegradeOutcome", "RegradeRefused", "RosterResult", "SubmissionError",
    "answers_digest", "assignment_create", "assignment_questions_default", "assignment_schedule", "check_may_submit", "clean_answers",
    "course_ensure", "extension_create", "membership_ensure", "user_ensure", "formula_review_create", "root_review_create", "grading_config", "grading_create_auto",
    "grading_override", "grading_withdraw", "opens_message", "regrade_assignment", "regrade_attempt",
    "regrade_job_create", "regrade_job_run", "review_request_answer", "review_request_create",
    "roster_import", "roster_job_create", "roster_passwords_take", "staff_job_run", "staff_jobs_expire",
    "spec_hash", "submission_accept", "submission_draft", "submission_grade", "submission_save_draft", "submission_submit", "submissions_auto_submit",
    "submitted_count",
]
