"""The grading app's pages: students', then course staff's."""
from django.urls import path

from grading import views

app_name = "grading"
urlpatterns = [
    path("", views.home, name="home"),
    path("assignments/<int:pk>/", views.assignment_page, name="assignment"),
    path("assignments/<int:pk>/draft/", views.save_draft, name="save_draft"),
    path("formulas/preview/", views.formula_preview, name="formula_preview"),
    path("csrf/", views.csrf_token, name="csrf_token"),  # a fresh token after a re-login elsewhere
    path("submissions/<int:pk>/", views.submission_detail, name="submission"),
    path("submissions/<int:pk>/loss.svg", views.submission_loss_plot, name="submission_loss_plot"),
    path("submissions/<int:pk>/review/", views.formula_review, name="formula_review"),
    # Course staff only (404 for anyone else).
    path("assignments/<int:pk>/gradebook/", views.gradebook, name="gradebook"),
    path("assignments/<int:pk>/gradebook.csv", views.gradebook_csv, name="gradebook_csv"),
    path("assignments/<int:pk>/key/", views.answer_key, name="key"),
    path("assignments/<int:pk>/key/loss.svg", views.key_loss_plot, name="key_loss_plot"),
    path("assignments/<int:pk>/analytics/", views.class_analytics, name="analytics"),
    path("assignments/<int:pk>/analytics/<str:kind>.svg", views.analytics_plot,
         name="analytics_plot"),
]
