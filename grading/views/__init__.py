"""The web layer, thin: check access, parse the form, call one service or selector, render."""

from grading.views.audit import key_audit
from grading.views.authoring import assignment_edit, assignment_new, assignment_publish, authoring_preview
from grading.views.exports import export_job, export_job_download, export_job_progress, export_start, gradebook_csv
from grading.views.feedback import (formula_review, grade_override, grade_withdraw, regrade_attempt, review_reply, root_review,
                                    review_request_create, submission_detail, submission_loss_plot,
                                    submission_status)
from grading.views.manage import (extensions, regrade, regrade_job, regrade_job_progress, roster, roster_job,
                                  roster_job_passwords, roster_job_progress)
from grading.views.receipts import receipt_download, receipt_email
from grading.views.session import csrf_token, healthz
from grading.views.staff import (analytics_plot, answer_key, class_analytics, gradebook,
                                 key_loss_plot, review_queue)
from grading.views.student import (assignment_page, draft_history, draft_restore, formula_preview, home,
                                   save_draft, submission_drafts)
from grading.views.variants import variant_key, variant_loss_plot

__all__ = [
    "export_job", "export_job_download", "export_job_progress", "export_start",
    "assignment_edit", "assignment_new", "assignment_publish", "authoring_preview", "key_audit", "variant_key",
    "variant_loss_plot",
    "analytics_plot", "answer_key", "assignment_page", "class_analytics", "csrf_token", "extensions", "healthz",
    "formula_preview", "formula_review", "grade_override", "grade_withdraw", "root_review", "gradebook", "gradebook_csv", "home",
    "key_loss_plot", "regrade", "regrade_attempt", "regrade_job", "regrade_job_progress",
    "review_queue", "review_reply", "review_request_create", "roster", "roster_job",
    "roster_job_passwords", "roster_job_progress", "save_draft",
    "receipt_download", "receipt_email", "submission_detail", "submission_loss_plot", "submission_status",
]
