"""The key audit: a lecturer's printed key checked against the engine, cell by cell (issue 9).

No Django here. ``printed`` reads a printed key (JSON, CSV or text pasted from a handout);
``audit`` lists every printed number that disagrees with the engine at its own printed
precision, as a ``typo``, a ``carried`` one or a ``last_digit`` slip, with the engine's value.
"""

from grading.keyaudit.audit import Disagreement, audit, engine_cells
from grading.keyaudit.printed import (Printed, PrintedKeyError, from_csv, from_json, from_text,
                                      normalise_name, resolve_columns)

__all__ = ["Disagreement", "Printed", "PrintedKeyError", "audit", "engine_cells", "from_csv",
           "from_json", "from_text", "normalise_name", "resolve_columns"]
