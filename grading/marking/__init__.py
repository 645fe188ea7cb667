"""Marking of the round tables: pure, no Django.

A cell is **correct** when |given − expected| < 0.51 × 10^-d (d decimal places, default 4).

**Follow-through.** A wrong cell is recomputed one step from the student's own upstream cells
(the engine's graph; given cells use their given value, round ≥ 2 parameters the student's own
previous updated values). Within the band of that, it is **carried** ("correct given your
s1 = 0.4700") and earns ``MarkingRules.carried_credit``. A student who computed from more digits
than they typed is carried too: each typed upstream value stands for the interval it rounds
(± half a unit of its last place, never wider than the assignment's decimals allow; given values
are exact), the cell's formula is bounded over those intervals (``grading.marking.intervals``),
and a value within the band of that interval is carried, and never called truncated. A blank or invalid upstream cell gives
no carried credit. A wrong cell that a named mistake of ``grading.mistakes`` explains, from the
student's own upstream values, is labelled with it.

**Against gaming** (explicit, in this order):

1. A carried cell's wrong upstream values must be plausible for their kind
   (``grading.marking.plausible``: f in (0, 1), not a copy of y and not σ(0), |y − f| < 1,
   squares and L not negative, dL/ds with the sign of dL/df, no 0 where the key is not 0, no
   value typed in more than ``max_repeats`` cells of a round unless the key repeats it as often).
   Trivial inputs make the next step trivial, so they earn nothing downstream, and no named
   mistake is read into them.
2. A round in which more than ``max_wrong_share`` (default half) of the answered cells are
   plainly wrong (incorrect or invalid, not carried) earns no carried credit at all: carried
   credit rewards consistent work after a slip, not a table of guesses.
3. At most ``carried_cap`` of a round's cells (default all) earn carried credit, in table
   order; an assignment may lower it.

Refused carried credit leaves the cell incorrect, with a message saying why.
"""

from grading.marking.numbers import (MAX_LENGTH, ParsedNumber, band, band_text, looks_truncated,
                                     parse_number)
from grading.marking.tables import CellMark, MarkingRules, mark_tables, round_score, summarize_mistakes

__all__ = [
    "MAX_LENGTH", "CellMark", "MarkingRules", "ParsedNumber", "band", "band_text", "looks_truncated",
    "mark_tables", "parse_number", "round_score", "summarize_mistakes",
]
