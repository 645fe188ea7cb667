"""Q1 verdicts kept in-process, so a class's identical formulas are checked once.

A verdict depends only on the formula as understood (its canonical text, so ``w11 × x1`` and
``w11*x1`` share one), the row, the network's shape (layer sizes, activations, loss and whether
biases are updated; with Q1's update rows also the batch, reduce, optimizer, its settings and
the learning rate), the assignment's credit for an unchained answer and the checker's version:
that is the key. An "undecided" row (a timeout, a crashed checker) is kept too, with the CPU
budget its check had: it is reused for a check given no more time (a class dry run does not wait
out the same time-outs again), and checked again when given more. The reading notes ("read 'χ1'
as x1") depend on what was typed, so they are not part of a cached verdict.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from grading.engine import Shape

from .nodes import Expr, to_text

if TYPE_CHECKING:
    from .check import FormulaStatus

DECIDED = ("correct", "not_chained", "incorrect")
# The checker's own version: a verdict of another version is never reused (a process keeps its
# cache for its life; a new version is a new process, and a new key all the same).
CHECK_VERSION = "2026.12.2"
VerdictKey = tuple[str, str, str, tuple[int, ...], tuple[str, ...], str, bool, float, tuple[Any, ...]]


@dataclass(frozen=True)
class Verdict:
    """A row's status, message (without reading notes; a grading.engine.text.Text, kept unrendered so
    each reader gets it in their language) and credit."""

    status: FormulaStatus
    message: str  # a Text
    credit: float = 0.0
    budget: float = 0.0  # an undecided verdict: the CPU seconds its check was given (< 0: none ran)


def verdict_key(expr: Expr, row: str, shape: Shape, not_chained_credit: float,
                settings: tuple[Any, ...] = ()) -> VerdictKey:
    """What a verdict depends on, and nothing that only changes how the answer was typed;
    ``settings``: what the update rows also depend on (batch, reduce, the optimizer and the
    values of its hyper-parameters and of the learning rate), () without them."""
    return (CHECK_VERSION, to_text(expr), row, shape.sizes, shape.activations, shape.loss, shape.update_biases,
            float(not_chained_credit), settings)


@dataclass(frozen=True)
class _Undecided:
    """An undecided mark of a typed text, with the CPU seconds its check had."""

    mark: Any
    budget: float


class VerdictCache:
    """A bounded, thread-safe LRU of verdicts (the web server grades in threads): decided ones,
    and undecided ones with the budget they had."""

    def __init__(self, maxsize: int = 4096) -> None:
        self.maxsize = maxsize
        self._items: OrderedDict[VerdictKey, Verdict] = OrderedDict()
        # Second level: the whole mark of an exact typed text (a class types the same few
        # texts; this skips even the parse and the MathML).
        self._typed: OrderedDict[tuple[Any, ...], Any] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: VerdictKey, budget: float | None = None) -> Verdict | None:
        """The verdict kept for ``key``; an undecided one only for a check given no more CPU
        seconds (``budget``) than it had."""
        with self._lock:
            verdict = self._items.get(key)
            if verdict is not None and verdict.status not in DECIDED and (
                    budget is None or budget > verdict.budget + 1e-9):
                verdict = None
            if verdict is None:
                self.misses += 1
                return None
            self._items.move_to_end(key)
            self.hits += 1
            return verdict

    def put(self, key: VerdictKey, verdict: Verdict) -> None:
        """Keep ``verdict`` (undecided ones with their ``budget``; a decided verdict is never
        replaced by an undecided one); the least recently used goes when full."""
        if verdict.status in DECIDED:
            self._keep(self._items, key, verdict)
            return
        if verdict.budget < 0:  # a check that could not run (a crash): tried again next time
            return
        with self._lock:
            known = self._items.get(key)
            if known is not None and (known.status in DECIDED or known.budget >= verdict.budget):
                return
            self._items[key] = verdict
            self._items.move_to_end(key)
            while len(self._items) > self.maxsize:
                self._items.popitem(last=False)

    def typed_mark(self, key: tuple[Any, ...], budget: float | None = None) -> Any:
        """The mark already made for this exact text of this row, shape and credit, or None (an
        undecided one only for a check given no more CPU seconds than it had)."""
        with self._lock:
            mark = self._typed.get(key)
            if isinstance(mark, _Undecided):
                mark = mark.mark if budget is not None and budget <= mark.budget + 1e-9 else None
            if mark is not None:
                self._typed.move_to_end(key)
                self.hits += 1
            return mark

    def keep_typed_mark(self, key: tuple[Any, ...], mark: Any, budget: float | None = None) -> None:
        """Keep a mark of an exact typed text: a decided one, or an undecided one with the CPU
        seconds (``budget``, >= 0) its check had."""
        if mark.status == "undecided" and budget is not None and budget >= 0:
            with self._lock:
                known = self._typed.get(key)
                if known is not None and (not isinstance(known, _Undecided) or known.budget >= budget):
                    return
                self._typed[key] = _Undecided(mark, budget)
                self._typed.move_to_end(key)
                while len(self._typed) > self.maxsize:
                    self._typed.popitem(last=False)
            return
        self._keep(self._typed, key, mark)

    def snapshot(self) -> tuple[list[tuple[Any, Any]], list[tuple[Any, Any]]]:
        """Every kept verdict and typed mark, to start another process's cache warm (a
        grading pool's spawned workers: a class dry run does not wait out known time-outs again)."""
        with self._lock:
            return list(self._items.items()), list(self._typed.items())

    def load(self, snapshot: tuple[list[tuple[Any, Any]], list[tuple[Any, Any]]]) -> None:
        """Take in another process's ``snapshot`` (by the same rules as ``put``)."""
        items, typed = snapshot
        with self._lock:
            for key, verdict in items:
                self._items.setdefault(key, verdict)
            for key, mark in typed:
                self._typed.setdefault(key, mark)
            for store in (self._items, self._typed):
                while len(store) > self.maxsize:
                    store.popitem(last=False)

    def _keep(self, items: OrderedDict[Any, Any], key: Any, value: Any) -> None:
        """Keep a decided ``value``; the least recently used of ``items`` goes when full."""
        if value.status not in DECIDED:
            return
        with self._lock:
            items[key] = value
            items.move_to_end(key)
            while len(items) > self.maxsize:
                items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._typed.clear()
            self.hits = self.misses = 0

    def __len__(self) -> int:
        return len(self._items)


VERDICTS = VerdictCache()  # the process's shared cache, for callers that opt in
