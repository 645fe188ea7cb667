"""The web layer, thin: check access, parse the form, call one service, render."""

from grading.views.feedback import formula_review, submission_detail, submission_loss_plot
from grading.views.session import csrf_token
from grading.views.staff import (analytics_plot, answer_key, class_analytics, gradebook,
                                 gradebook_csv, key_loss_plot)
from grading.views.student import assignment_page, formula_preview, home, save_draft

__all__ = [
    "analytics_plot", "answer_key", "assignment_page", "class_analytics", "csrf_token",
    "formula_preview",
    "formula_review", "gradebook", "gradebook_csv", "home", "key_loss_plot", "save_draft",
    "submission_detail", "submission_loss_plot",
]
