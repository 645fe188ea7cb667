"""One submission in, one JSON-able report out: cells, formulas, questions and total.

Pure (no Django): the `grade` management command and `services.submission_submit` both call
`grade_submission`, so the command line and the web page can never disagree.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from functools import lru_cache
from typing import Any

from grading import engine, marking
from grading.formulas import grade_formulas

GRADER_VERSION = "2026.11.1"


@dataclass(frozen=True)
class QuestionSpec:
    number: int
    kind: str  # "formulas" | "round" | "plot"
    points: float
    round: int | None = None
    extra_credit: bool = False

    @property
    def id(self) -> str:
        return f"Q{self.number}"


@dataclass(frozen=True)
class GradingConfig:
    questions: tuple[QuestionSpec, ...]
    decimals: int = 4
    carried_credit: float = 1.0
    carried_cap: float = 1.0
    not_chained_credit: float = 0.5
    formula_time_limit: float = 2.0


def default_questions(spec: engine.Spec) -> tuple[QuestionSpec, ...]:
    """Homework 4.1's layout: Q1 formulas 30, one table per round 35 (rounds 3+ extra), plot 5 extra."""
    questions = [QuestionSpec(1, "formulas", 30)]
    for r in range(1, spec.n_rounds + 1):
        questions.append(QuestionSpec(r + 1, "round", 35, round=r, extra_credit=r > 2))
    questions.append(QuestionSpec(spec.n_rounds + 2, "plot", 5, extra_credit=True))
    return tuple(questions)


def _score_formulas(rows: list[dict[str, Any]], points: float,
                    reviews: Mapping[str, bool]) -> tuple[list[dict[str, Any]], float]:
    """Each Q1 row with its points (a reviewer's decision wins on an undecided row), and the sum."""
    each = points / len(rows) if rows else 0.0
    scored = []
    for row in rows:
        decision = reviews.get(row["row"]) if row["status"] == "undecided" else None
        credit = row["credit"] if decision is None else float(decision)
        scored.append({**row, "points": round(each * credit, 4), "reviewed": decision})
    return scored, sum(r["points"] for r in scored)


def _as_dict(mark: Any) -> dict[str, Any]:
    # dataclasses.asdict deep-copies every value and was most of the grading time.
    out = {f.name: getattr(mark, f.name) for f in fields(mark)}
    if isinstance(out.get("upstream"), dict):
        out["upstream"] = dict(out["upstream"])
    return out


@lru_cache(maxsize=64)
def answer_key(spec: engine.Spec) -> engine.Key:
    """The engine's key, computed once per spec: a spec is immutable and a class hands in
    hundreds of submissions of one spec (nothing downstream mutates the key)."""
    return engine.answer_key(spec)


def grade_submission(spec: engine.Spec, answers: Any, config: GradingConfig) -> dict[str, Any]:
    """Mark every cell and formula of ``answers`` against the engine and score each question."""
    answers = answers if isinstance(answers, Mapping) else {}
    key = answer_key(spec)
    rules = marking.MarkingRules(decimals=config.decimals, carried_credit=config.carried_credit,
                                 carried_cap=config.carried_cap)
    cells = marking.mark_tables(key, answers, rules)
    wants_formulas = any(q.kind == "formulas" for q in config.questions)
    formulas: list[dict[str, Any]] = []
    if wants_formulas:
        typed = answers.get("formulas")
        typed = typed if isinstance(typed, Mapping) else {}
        formulas = [_as_dict(m) for m in grade_formulas(
            {k: v for k, v in typed.items() if isinstance(v, str)},
            n_inputs=spec.n_inputs, n_outputs=spec.n_outputs,
            not_chained_credit=config.not_chained_credit, time_limit=config.formula_time_limit)]
    loss_cells = [c for c in cells if c.column == "forward" and c.name == "L"]
    questions = []
    for q in config.questions:
        if q.kind == "formulas":
            formulas, score = _score_formulas(formulas, q.points, {})  # reviews: see rescore
        elif q.kind == "round":
            score = marking.round_score(cells, q.round, q.points)
        else:
            # The plot is drawn from the student's L cells: its points follow the weakest of them.
            score = q.points * min((c.credit for c in loss_cells), default=0.0)
        questions.append({
            "id": q.id, "number": q.number, "kind": q.kind, "round": q.round,
            "extra_credit": q.extra_credit, "score": round(score, 4), "max": q.points,
            "carried": round(_carried_points(cells, q), 4),
        })
    typed_loss = [marking.parse_number(c.given) for c in loss_cells]
    student_loss = [p.value if p.status == "number" else None for p in typed_loss]
    return {
        "grader_version": GRADER_VERSION,
        "decimals": config.decimals,
        "band": marking.band(config.decimals),
        "cells": [_as_dict(c) for c in cells],
        "formulas": formulas,
        "questions": questions,
        "total": round(sum(q["score"] for q in questions), 4),
        "max": sum(q.points for q in config.questions if not q.extra_credit),
        "max_with_extra": sum(q.points for q in config.questions),
        "mistakes": marking.summarize_mistakes(cells),
        "loss": {"key": key.loss(), "student": student_loss},
    }


def answers_shape_error(spec: engine.Spec, data: Any) -> str | None:
    """What is wrong with the shape of an answers file, or None when it can be graded."""
    if not isinstance(data, Mapping):
        return "must be a JSON object with \"rounds\" (and optionally \"formulas\")"
    unknown = sorted(set(data) - {"rounds", "formulas", "loss"})
    if unknown:
        return "unknown keys: " + ", ".join(map(str, unknown))
    rounds = data.get("rounds", [])
    if not isinstance(rounds, list):
        return "\"rounds\" must be a list of tables"
    names = engine.cell_names(spec.n_inputs, spec.n_outputs)
    seen = set()
    for k, table in enumerate(rounds):
        if not isinstance(table, Mapping):
            return f"rounds[{k}] must be an object"
        r = table.get("round")
        if isinstance(r, bool) or not isinstance(r, int) or not 1 <= r <= spec.n_rounds:
            return f"rounds[{k}].round must be a round number from 1 to {spec.n_rounds}"
        if r in seen:
            return f"round {r} appears twice"
        seen.add(r)
        for column, cells in table.items():
            if column == "round":
                continue
            if column not in names:
                return f"round {r}: unknown column {column!r} (expected one of {', '.join(engine.COLUMNS)})"
            if not isinstance(cells, Mapping):
                return f"round {r} {column} must be an object of cell name to typed value"
            for name, value in cells.items():
                if name not in names[column]:
                    return f"round {r} {column}: unknown cell {name!r}"
                if value is not None and not isinstance(value, (str, int, float)):
                    return f"round {r} {column} {name}: must be the value as typed, a string"
    formulas = data.get("formulas", {})
    if not isinstance(formulas, Mapping) or not all(isinstance(v, str) for v in formulas.values()):
        return "\"formulas\" must be an object of row name to formula text"
    return None


def _carried_points(cells: list[marking.CellMark], q: QuestionSpec) -> float:
    """Points of a round question that came from carried (follow-through) credit."""
    if q.kind != "round":
        return 0.0
    mine = [c for c in cells if c.round == q.round]
    if not mine:
        return 0.0
    return q.points / len(mine) * sum(c.credit for c in mine if c.status == "carried")


def rescore(report: dict[str, Any], reviews: Mapping[str, bool]) -> dict[str, Any]:
    """The report with Q1 rescored after an instructor accepted or rejected undecided rows."""
    questions, formulas = [], report["formulas"]
    for q in report["questions"]:
        if q["kind"] == "formulas":
            formulas, score = _score_formulas(report["formulas"], q["max"], reviews)
            q = {**q, "score": round(score, 4)}
        questions.append(q)
    return {**report, "questions": questions, "formulas": formulas,
            "total": round(sum(q["score"] for q in questions), 4)}
