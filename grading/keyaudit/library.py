"""The library of audited exercise templates: well-known worked examples as specs, each with its
source, a description and, where the source prints numbers, those numbers as printed.

No Django here. A template is a JSON file of ``grading/specs/library/``: ``title``, ``source``,
``description``, ``spec`` (the spec format) and optionally ``printed`` (the source's numbers in
the ANSWERS.json shape, as printed). ``audit_template`` runs the key audit on those: what it
lists are the source's own misprints (tests/test_library.py names them template by template).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from grading.engine.spec import Spec, parse_spec
from grading.keyaudit.audit import Disagreement, audit
from grading.keyaudit.printed import Printed, from_json

LIBRARY = Path(__file__).resolve().parent.parent / "specs" / "library"


@dataclass(frozen=True)
class Template:
    slug: str          # the file's name without .json
    title: str
    source: str
    description: str
    spec_json: dict[str, Any]
    printed_json: dict[str, Any] | None

    @property
    def spec(self) -> Spec:
        return parse_spec(self.spec_json)

    @property
    def printed(self) -> list[Printed]:
        return from_json(self.printed_json) if self.printed_json else []


@lru_cache(maxsize=1)
def templates() -> tuple[Template, ...]:
    """Every template of the library, by file name."""
    out = []
    for path in sorted(LIBRARY.glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        out.append(Template(path.stem, data["title"], data["source"], data["description"], data["spec"],
                            data.get("printed")))
    return tuple(out)


def template(slug: str) -> Template:
    """The template of this slug; KeyError for any other."""
    for t in templates():
        if t.slug == slug:
            return t
    raise KeyError(slug)


def audit_template(t: Template) -> list[Disagreement]:
    """Where the source's printed numbers disagree with the key at their own printed precision."""
    return audit(t.spec, t.printed) if t.printed_json else []
