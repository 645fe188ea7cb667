"""Every read the web layer needs, beside the services that write.

``problems``: the computation (key, names, Q1 rows, messages). ``grades``: the grade ledger,
the gradebook and the review queue. ``people``: a student's terms, memberships, rosters.
``copying``: the class's numbers per cell, for the copy signal. ``variants``: an attempt's problem, the class's per-student variants. ``authoring``: a spec
checked as its author types it, and the key audit.
Views, forms and template tags import these, never the models' managers or the computation.
"""

from grading.selectors.authoring import (ACTIVATIONS, AUDIT_FORMATS, LOSSES, PREVIEW_SEED, LibraryEntry,
                                        library_template, library_templates,
                                        REVEAL_CHOICES, UNEXPLAINED_ROOTS_CHOICES, Audit, AuditLine, Check, authoring_initial,
                                        check_spec, default_questions, key_audit, slug_taken)
from grading.selectors.exports import CSV_FORMATS, export_allowed, export_filename, gradebook_csv
from grading.selectors.drafts import draft_history, draft_version, student_draft
from grading.selectors.copying import (ClassIndex, class_index, class_numbers,
                                       forget_class_numbers)
from grading.selectors.grades import (Attempt, ClassRow, QueueItem, best, class_rows, copy_signal,
                                      counted_reports, current_grading, current_gradings,
                                      current_report, grade_notices, grading_history, live_overrides, grading_record,
                                      regrade_job, regrade_jobs, report_of, requests_of, review_queue,
                                      review_request, RootLine, root_lines, student_attempts, student_home,
                                      StudentAttempts, ATTEMPTS_SHOWN)
from grading.selectors.health import Health, grading_health
from grading.selectors.people import (Terms, all_courses, assignment_history, assignments_of, course_student, course_student_count, course_students,
                                      drafts_by_student, extension_list, extensions_by_student, memberships_of,
                                      questions_of, roster_passwords_shown, staff_job, staff_job_file, staff_jobs, student_terms,
                                      terms_by_assignment)
from grading.selectors.problems import (TABLE_COLUMNS, FormulaTextError, answer_key, band_text,
                                        cell_names, formula_columns, formula_mathml, formula_rows,
                                        mistake_catalogue, name_place, number_problem, parse_spec, plain_name,
                                        reference_formulas, shape, table_layout, typed_cells,
                                        variable_of)
from grading.selectors.variants import (Drawn, Ranged, Spread, class_spread, class_variants, free_label,
                                        preview_problem, problem_of, ranged_numbers, spec_json_of,
                                        students_started, variant_numbers, variant_specs,
                                        variants_by_student)

__all__ = [
    "draft_history", "draft_version", "student_draft",
    "CSV_FORMATS", "export_allowed", "export_filename", "gradebook_csv", "course_student_count", "staff_job_file",
    "Health", "grading_health",
    "ClassIndex", "class_index", "class_numbers", "forget_class_numbers",
    "ACTIVATIONS", "AUDIT_FORMATS", "LOSSES", "PREVIEW_SEED", "REVEAL_CHOICES", "UNEXPLAINED_ROOTS_CHOICES", "Audit",
    "AuditLine", "Check", "LibraryEntry", "library_template", "library_templates", "authoring_initial", "check_spec", "default_questions", "key_audit",
    "slug_taken",
    "Drawn", "Ranged", "Spread", "class_spread", "class_variants", "free_label", "preview_problem",
    "problem_of", "ranged_numbers", "spec_json_of", "students_started", "variant_numbers",
    "variant_specs",
    "variants_by_student",
    "all_courses",
    "TABLE_COLUMNS", "Attempt", "ClassRow", "FormulaTextError", "QueueItem", "RootLine", "root_lines", "Terms", "answer_key",
    "assignment_history", "assignments_of", "band_text", "best", "cell_names", "class_rows", "copy_signal",
    "counted_reports", "course_student", "course_students", "roster_passwords_shown", "staff_job", "staff_jobs", "current_grading", "current_gradings",
    "current_report", "extension_list", "formula_columns", "formula_mathml", "formula_rows",
    "grade_notices", "grading_history", "live_overrides",
    "grading_record", "memberships_of", "mistake_catalogue", "name_place",
    "number_problem",
    "parse_spec", "plain_name", "questions_of", "reference_formulas", "regrade_job", "regrade_jobs", "report_of", "requests_of",
    "review_queue", "review_request", "student_attempts", "StudentAttempts", "ATTEMPTS_SHOWN", "student_home", "student_terms",
    "shape", "table_layout", "terms_by_assignment", "typed_cells", "variable_of",
]
