"""The grading app's pages: students', then course staff's."""
from django.urls import path

from grading import views
from grading.views import lti as lti_views

app_name = "grading"
urlpatterns = [
    path("", views.home, name="home"),
    path("assignments/<int:pk>/", views.assignment_page, name="assignment"),
    path("assignments/<int:pk>/draft/", views.save_draft, name="save_draft"),
    path("assignments/<int:pk>/draft/history/", views.draft_history, name="draft_history"),
    path("assignments/<int:pk>/draft/versions/<int:number>/restore/", views.draft_restore,
         name="draft_restore"),
    path("formulas/preview/", views.formula_preview, name="formula_preview"),
    path("healthz", views.healthz, name="healthz"),  # no login: for a load balancer or a monitor
    path("csrf/", views.csrf_token, name="csrf_token"),  # a fresh token after a re-login elsewhere
    path("submissions/<int:pk>/", views.submission_detail, name="submission"),
    path("submissions/<int:pk>/status.json", views.submission_status, name="submission_status"),
    path("submissions/<int:pk>/loss.svg", views.submission_loss_plot, name="submission_loss_plot"),
    path("submissions/<int:pk>/receipt.txt", views.receipt_download, name="receipt_download"),
    path("submissions/<int:pk>/receipt/email/", views.receipt_email, name="receipt_email"),
    path("submissions/<int:pk>/ask/", views.review_request_create, name="review_request"),
    # Course staff only (404 for anyone else).
    path("submissions/<int:pk>/review/", views.formula_review, name="formula_review"),
    path("submissions/<int:pk>/roots/", views.root_review, name="root_review"),
    path("submissions/<int:pk>/override/", views.grade_override, name="grade_override"),
    path("submissions/<int:pk>/drafts/", views.submission_drafts, name="submission_drafts"),
    path("submissions/<int:pk>/override/withdraw/", views.grade_withdraw, name="grade_withdraw"),
    path("submissions/<int:pk>/regrade/", views.regrade_attempt, name="regrade_attempt"),
    path("submissions/<int:pk>/requests/<int:request_id>/reply/", views.review_reply,
         name="review_reply"),
    path("assignments/<int:pk>/gradebook/", views.gradebook, name="gradebook"),
    path("assignments/<int:pk>/gradebook.csv", views.gradebook_csv, name="gradebook_csv"),
    path("assignments/<int:pk>/queue/", views.review_queue, name="queue"),
    path("assignments/<int:pk>/key/", views.answer_key, name="key"),
    path("assignments/<int:pk>/key/loss.svg", views.key_loss_plot, name="key_loss_plot"),
    path("assignments/<int:pk>/analytics/", views.class_analytics, name="analytics"),
    path("assignments/<int:pk>/analytics/<str:kind>.svg", views.analytics_plot,
         name="analytics_plot"),
    path("assignments/<int:pk>/regrade/", views.regrade, name="regrade"),
    path("assignments/<int:pk>/regrade/<int:job_id>/", views.regrade_job, name="regrade_job"),
    path("assignments/<int:pk>/regrade/<int:job_id>.json", views.regrade_job_progress,
         name="regrade_job_progress"),
    path("assignments/<int:pk>/extensions/", views.extensions, name="extensions"),
    path("assignments/<int:pk>/roster/", views.roster, name="roster"),
    path("assignments/<int:pk>/roster/<int:job_id>/", views.roster_job, name="roster_job"),
    path("assignments/<int:pk>/roster/<int:job_id>.json", views.roster_job_progress, name="roster_job_progress"),
    path("assignments/<int:pk>/roster/<int:job_id>/passwords.csv", views.roster_job_passwords,
         name="roster_job_passwords"),
    path("assignments/<int:pk>/variants/<int:variant_id>/", views.variant_key, name="variant_key"),
    path("assignments/<int:pk>/variants/<int:variant_id>/loss.svg", views.variant_loss_plot,
         name="variant_loss_plot"),
    path("assignments/<int:pk>/keyaudit/", views.key_audit, name="key_audit"),
    # Instructors (and superusers) only.
    path("courses/<slug:code>/assignments/new/", views.assignment_new, name="assignment_new"),
    path("courses/<slug:code>/authoring/preview/", views.authoring_preview, name="authoring_preview"),
    path("assignments/<int:pk>/edit/", views.assignment_edit, name="assignment_edit"),
    path("assignments/<int:pk>/publish/", views.assignment_publish, name="assignment_publish"),
    # LTI 1.3: the LMS's entry points (no login: the launch is the sign-in) and staff pages.
    path("lti/login/", lti_views.lti_login, name="lti_login"),
    path("lti/login/<uuid:registration_uuid>/", lti_views.lti_login, name="lti_login_for"),
    path("lti/launch/", lti_views.lti_launch, name="lti_launch"),
    path("lti/jwks/", lti_views.jwks, name="lti_jwks"),
    path("lti/continue/<str:token>/", lti_views.lti_continue, name="lti_continue"),
    path("lti/register/<str:token>/", lti_views.lti_register, name="lti_register"),
    path("lti/deep-link/", lti_views.lti_deep_link, name="lti_deep_link"),
    path("assignments/<int:pk>/lms/", lti_views.passback_page, name="lti_passback"),
    path("courses/<slug:code>/lms-roster/", lti_views.roster_sync, name="lti_roster"),
]
