"""One submission in, one ``Report`` out: cells, formulas, questions and total.

Pure (no Django): the `grade` management command, the submit service and regrades all call
`grade_submission`, so the command line and the web page can never disagree.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

from grading import engine, marking
from grading.formulas import VERDICTS, grade_formulas
from grading.marking.roots import Others, Policy
from grading.marking.tables import mark_tables_with_roots
from grading.grade.report import (CellRef, FormulaScore, Loss, MistakeSummary, QuestionScore, Report,
                            field_names)
from grading.engine.text import _

GRADER_VERSION = "2026.12.2"  # Q1 of a batch or optimizer spec has the update rows (issue 20)


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
    unexplained_roots: Policy = "review"


def default_questions(spec: engine.Spec) -> tuple[QuestionSpec, ...]:
    """Homework 4.1's layout: Q1 formulas 30, one table per round 35 (rounds 3+ extra), plot 5 extra."""
    return questions_for_rounds(spec.n_rounds)


def questions_for_rounds(n_rounds: int) -> tuple[QuestionSpec, ...]:
    """``default_questions`` for a problem of ``n_rounds`` rounds (before there is a spec)."""
    questions = [QuestionSpec(1, "formulas", 30)]
    for r in range(1, n_rounds + 1):
        questions.append(QuestionSpec(r + 1, "round", 35, round=r, extra_credit=r > 2))
    questions.append(QuestionSpec(n_rounds + 2, "plot", 5, extra_credit=True))
    return tuple(questions)


def _as_dict(mark: DataclassInstance) -> dict[str, Any]:
    # dataclasses.asdict deep-copies every value and was most of the grading time.
    return {name: getattr(mark, name) for name in field_names(type(mark))}


@lru_cache(maxsize=64)
def answer_key(spec: engine.Spec) -> engine.Key:
    """The engine's key, computed once per spec: a spec is immutable and a class hands in
    hundreds of submissions of one spec (nothing downstream mutates the key)."""
    return engine.answer_key(spec)


def _round_losses(cells: Sequence[Any]) -> list[Any]:
    """Each round's L cell (in a round of several samples the round's, not its samples' L(k)):
    the plot is drawn from them."""
    return [c for c in cells if c.quantity == "L" and c.name == "L"]


def score_questions(questions: Sequence[QuestionScore], cells: Sequence[marking.CellMark],
                    formulas: Sequence[FormulaScore]) -> tuple[tuple[QuestionScore, ...],
                                                               tuple[FormulaScore, ...]]:
    """Each question's score from the marks (and each Q1 row's points): the one scoring rule,
    used by the grader and again by the ledger after staff change a mark."""
    scored_formulas = tuple(formulas)
    out = []
    loss_cells = _round_losses(cells)
    for q in questions:
        carried = 0.0
        if q.kind == "formulas":
            each = q.max / len(formulas) if formulas else 0.0
            scored_formulas = tuple(replace(f, points=round(each * f.credit, 4)) for f in formulas)
            score = sum(f.points for f in scored_formulas)
        elif q.kind == "round":
            if q.round is None:  # pragma: no cover - a round question always names its round
                raise ValueError(f"question {q.id} has no round")
            score = marking.round_score(list(cells), q.round, q.max)
            mine = [c for c in cells if c.round == q.round]
            carried = q.max / len(mine) * sum(c.credit for c in mine if c.status == "carried") if mine else 0.0
        else:
            # The plot is drawn from the student's L cells: its points follow the weakest of them.
            score = q.max * min((c.credit for c in loss_cells), default=0.0)
        out.append(replace(q, score=round(score, 4), carried=round(carried, 4)))
    return tuple(out), scored_formulas


def grade_submission(spec: engine.Spec, answers: Any, config: GradingConfig,
                     others: Others | None = None) -> Report:
    """Mark every cell and formula of ``answers`` against the engine and score each question
    (``others``: the class's numbers per cell, for the copy signal on roots)."""
    answers = answers if isinstance(answers, Mapping) else {}
    key = answer_key(spec)
    rules = marking.MarkingRules(decimals=config.decimals, carried_credit=config.carried_credit,
                                 carried_cap=config.carried_cap, unexplained_roots=config.unexplained_roots)
    marks, roots = mark_tables_with_roots(key, answers, rules, others)
    cells = tuple(marks)
    formulas: list[FormulaScore] = []
    if any(q.kind == "formulas" for q in config.questions):
        typed = answers.get("formulas")
        typed = typed if isinstance(typed, Mapping) else {}
        formulas = [FormulaScore(**_as_dict(m)) for m in grade_formulas(
            {k: v for k, v in typed.items() if isinstance(v, str)},
            shape=engine.Shape.of(spec), learning_rate=spec.learning_rate,
            not_chained_credit=config.not_chained_credit, time_limit=config.formula_time_limit,
            cache=VERDICTS)]  # a class's identical formulas are checked once per process
    questions, scored_formulas = score_questions(
        [QuestionScore(id=q.id, number=q.number, kind=q.kind, max=q.points, round=q.round,
                       extra_credit=q.extra_credit) for q in config.questions], cells, formulas)
    loss_cells = _round_losses(cells)
    typed_loss = [marking.parse_number(c.given) for c in loss_cells]
    return Report(
        grader_version=GRADER_VERSION,
        decimals=config.decimals,
        band=marking.band(config.decimals),
        cells=cells,
        formulas=scored_formulas,
        questions=questions,
        total=round(sum(q.score for q in questions), 4),
        max=sum(q.points for q in config.questions if not q.extra_credit),
        max_with_extra=sum(q.points for q in config.questions),
        mistakes=_mistakes(cells),
        loss=Loss(tuple(key.loss()), tuple(p.value if p.status == "number" else None
                                          for p in typed_loss)),
        roots=tuple(roots),
    )


def _mistakes(cells: Sequence[marking.CellMark]) -> tuple[MistakeSummary, ...]:
    return tuple(MistakeSummary(m["id"], m["title"], m["explanation"],
                                tuple(CellRef(**c) for c in m["cells"]))
                 for m in marking.summarize_mistakes(list(cells)))


def answers_shape_error(spec: engine.Spec, data: Any) -> str | None:
    """What is wrong with the shape of an answers file (a grading.engine.text.Text), or None when it
    can be graded."""
    if not isinstance(data, Mapping):
        return _("must be a JSON object with \"rounds\" (and optionally \"formulas\")")
    unknown = sorted(set(data) - {"rounds", "formulas", "loss"})
    if unknown:
        return _("unknown keys: %(keys)s", keys=", ".join(map(str, unknown)))
    rounds = data.get("rounds", [])
    if not isinstance(rounds, list):
        return _("\"rounds\" must be a list of tables")
    names = engine.column_names(engine.Shape.of(spec))
    seen = set()
    for k, table in enumerate(rounds):
        if not isinstance(table, Mapping):
            return _("rounds[%(k)s] must be an object", k=k)
        r = table.get("round")
        if isinstance(r, bool) or not isinstance(r, int) or not 1 <= r <= spec.n_rounds:
            return _("rounds[%(k)s].round must be a round number from 1 to %(n)s", k=k, n=spec.n_rounds)
        if r in seen:
            return _("round %(round)s appears twice", round=r)
        seen.add(r)
        for column, cells in table.items():
            if column == "round":
                continue
            if column not in names:
                return _("round %(round)s: unknown column %(column)s (expected one of %(columns)s)",
                         round=r, column=repr(column), columns=", ".join(engine.COLUMNS))
            if not isinstance(cells, Mapping):
                return _("round %(round)s %(column)s must be an object of cell name to typed value",
                         round=r, column=column)
            for name, value in cells.items():
                if name not in names[column]:
                    return _("round %(round)s %(column)s: unknown cell %(name)s", round=r, column=column,
                             name=repr(name))
                if value is not None and not isinstance(value, (str, int, float)):
                    return _("round %(round)s %(column)s %(name)s: must be the value as typed, a string",
                             round=r, column=column, name=name)
    formulas = data.get("formulas", {})
    if not isinstance(formulas, Mapping) or not all(isinstance(v, str) for v in formulas.values()):
        return _("\"formulas\" must be an object of row name to formula text")
    return None


# ---------------------------------------------------------------- many submissions at once

_POOL_JOB: tuple[engine.Spec | None, GradingConfig] | None = None


def _pool_start(spec: engine.Spec | None, config: GradingConfig, verdicts: Any = None) -> None:
    global _POOL_JOB
    _POOL_JOB = (spec, config)
    if verdicts is not None:
        VERDICTS.load(verdicts)  # the parent's Q1 verdicts, undecided ones with their budgets
    # What a fresh worker holds now (modules, the verdicts) lives as long as it does: the
    # collector need not walk it again after every few thousand objects a grading makes
    # (measured: 8% of a regrade's CPU time in a process of that size).
    gc.freeze()


def _pool_run(job: tuple[Callable[..., Any], engine.Spec | None, tuple[Any, ...]]) -> Any:
    shared, config = _POOL_JOB  # type: ignore[misc]
    fn, spec, args = job
    return fn(spec if spec is not None else shared, config, *args)


def _pool_ready() -> None:
    """Nothing: a job that makes the pool start a worker."""


def _grade(spec: engine.Spec, config: GradingConfig, answers: Any) -> Report:
    return grade_submission(spec, answers, config)


class GradingPool:
    """Run grading work for many submissions; with ``workers`` > 1 in that many worker processes.

    The submissions share the pool's spec, or each brings its own (a class of per-student
    variants: ``specs`` in ``map``); a spec is sent to a worker only when it is not the pool's.
    Workers are started fresh ("spawn"), not forked: a web or task process holds database
    connections and threads that a forked copy must not share. Use it as a context manager.
    """

    def __init__(self, spec: engine.Spec | None, config: GradingConfig, *, workers: int = 1) -> None:
        self.spec, self.config, self.workers = spec, config, max(1, int(workers))
        self._executor: Any = None

    def __enter__(self) -> GradingPool:
        if self.workers > 1:
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor

            self._executor = ProcessPoolExecutor(
                max_workers=self.workers, mp_context=multiprocessing.get_context("spawn"),
                initializer=_pool_start, initargs=(self.spec, self.config, VERDICTS.snapshot()))
            # Start every worker now: a spawned one takes a second or two to import, time the
            # caller spends reading its first jobs from the database.
            for _ in range(self.workers):
                self._executor.submit(_pool_ready)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._executor is not None:
            self._executor.shutdown(cancel_futures=True)
            self._executor = None

    def map(self, fn: Callable[..., Any], jobs: Sequence[tuple[Any, ...]],
            specs: Sequence[engine.Spec | None] | None = None) -> list[Any]:
        """``fn(spec, config, *job)`` for each job, in order (``fn`` a module-level function);
        ``specs[k]`` is job k's problem (None: the pool's spec)."""
        return list(self.imap(fn, jobs, specs))

    def imap(self, fn: Callable[..., Any], jobs: Sequence[tuple[Any, ...]],
             specs: Sequence[engine.Spec | None] | None = None) -> Iterator[Any]:
        """``map`` as results come: with workers, every job is handed out at once and the caller
        can prepare the next jobs while these are graded; in-process, each runs as it is read."""
        own = list(specs) if specs is not None else [None] * len(jobs)
        if len(own) != len(jobs):
            raise ValueError(f"{len(jobs)} jobs but {len(own)} specs")
        if any(s is None for s in own) and self.spec is None:
            raise ValueError("a job without its own spec needs the pool's spec")
        own = [None if s == self.spec else s for s in own]
        if self._executor is None or len(jobs) < 2 * self.workers:
            return (fn(s if s is not None else self.spec, self.config, *job) for s, job in zip(own, jobs))
        # Small enough that the last jobs of a run do not leave a worker idle while one finishes.
        chunk = max(1, min(64, len(jobs) // (self.workers * 4)))
        results: Iterator[Any] = self._executor.map(_pool_run, [(fn, s, job) for s, job in zip(own, jobs)],
                                                    chunksize=chunk)
        return results

    def grade(self, answers: Sequence[Any], specs: Sequence[engine.Spec | None] | None = None) -> list[Report]:
        """One report per answers, in order (each on its own spec when ``specs`` is given)."""
        return self.map(_grade, [(a,) for a in answers], specs)
