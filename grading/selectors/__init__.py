"""Every read the web layer needs, beside the services that write.

``problems``: the computation (key, names, Q1 rows, messages). ``grades``: the grade ledger,
the gradebook and the review queue. ``people``: a student's terms, memberships, rosters.
Views, forms and template tags import these, never the models' managers or the computation.
"""

from grading.selectors.grades import (Attempt, ClassRow, QueueItem, best, class_rows, copy_signal,
                                      counted_reports, current_grading, current_gradings,
                                      current_report, grading_history, grading_record, is_graded,
                                      regrade_job, regrade_jobs, report_of, requests_of, review_queue,
                                      review_request, student_home, student_submissions)
from grading.selectors.people import (Terms, assignments_of, course_student, course_students,
                                      extension_list, memberships_of, questions_of, student_terms,
                                      terms_by_assignment)
from grading.selectors.problems import (TABLE_COLUMNS, FormulaTextError, answer_key, band_text,
                                        cell_names, formula_columns, formula_mathml, formula_rows,
                                        mistake_catalogue, name_place, number_problem, parse_spec, plain_name,
                                        reference_formulas, shape, table_layout, typed_cells,
                                        variable_of)

__all__ = [
    "TABLE_COLUMNS", "Attempt", "ClassRow", "FormulaTextError", "QueueItem", "Terms", "answer_key",
    "assignments_of", "band_text", "best", "cell_names", "class_rows", "copy_signal",
    "counted_reports", "course_student", "course_students", "current_grading", "current_gradings",
    "current_report", "extension_list", "formula_columns", "formula_mathml", "formula_rows",
    "grading_history",
    "grading_record", "is_graded", "memberships_of", "mistake_catalogue", "name_place",
    "number_problem",
    "parse_spec", "plain_name", "questions_of", "reference_formulas", "regrade_job", "regrade_jobs", "report_of", "requests_of",
    "review_queue", "review_request", "student_home", "student_submissions", "student_terms",
    "shape", "table_layout", "terms_by_assignment", "typed_cells", "variable_of",
]
