"""No test depends on the real date: the suite's clock is pinned (tests/conftest.py), the browser
tests (which keep the real clock for Chromium's cookies) write no date, and the date-bound tests
pass with the machine's clock years ahead (Debian's faketime)."""

from __future__ import annotations

import ast
import os
import re
import shutil
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from tests.conftest import PINNED_NOW

ROOT = Path(__file__).resolve().parent.parent
TESTS = ROOT / "tests"
ISO_DATE = re.compile(r"\b(19|20|21)\d\d-[01]\d-[0-3]\d")


def test_a_test_runs_on_the_pinned_clock() -> None:
    assert PINNED_NOW <= timezone.now() < PINNED_NOW + timedelta(minutes=10)


def test_the_clock_can_be_moved_by_a_test(clock) -> None:
    clock.shift(timedelta(days=400))
    assert timezone.now() - PINNED_NOW >= timedelta(days=400)


def _is_browser_marker(node: ast.expr) -> bool:
    return isinstance(node, ast.Attribute) and node.attr == "browser" and "mark" in ast.unparse(node)


def _browser_functions(tree: ast.Module) -> list[ast.FunctionDef]:
    """The test functions that run in Chromium: marked one by one, or by the module's pytestmark."""
    module_marked = any(isinstance(node, ast.Assign) and any(getattr(t, "id", "") == "pytestmark" for t in node.targets)
                        and any(_is_browser_marker(n) for n in ast.walk(node.value)) for node in tree.body)
    return [node for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)
            and (module_marked or any(_is_browser_marker(d) for d in node.decorator_list))]


def written_dates(source: str) -> list[str]:
    """Where a browser test writes a calendar date: ``datetime(2026, ...)``/``date(...)`` with a
    literal year, or an ISO date in a string."""
    found = []
    for function in _browser_functions(ast.parse(source)):
        for node in ast.walk(function):
            if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", "")) in (
                    "datetime", "date") and node.args and isinstance(node.args[0], ast.Constant):
                found.append(f"{function.name}:{node.lineno} {ast.unparse(node)}")
            elif isinstance(node, ast.Constant) and isinstance(node.value, str) and ISO_DATE.search(node.value):
                found.append(f"{function.name}:{node.lineno} {node.value!r}")
    return found


@pytest.mark.parametrize("source", [
    "import pytest\npytestmark = pytest.mark.browser\ndef test_a(page):\n    due = datetime(2026, 12, 1)\n",
    "import pytest\n@pytest.mark.browser\ndef test_a(page):\n    page.fill('#due', '2026-12-01T10:00')\n",
])
def test_the_date_rule_flags_a_date_in_a_browser_test(source: str) -> None:
    assert len(written_dates(source)) == 1


@pytest.mark.parametrize("source", [
    "import pytest\n@pytest.mark.browser\ndef test_a(page):\n    due = timezone.now() + timedelta(days=2)\n",
    "import pytest\ndef test_b(client, clock):\n    due = datetime(2026, 12, 1)\n",  # pinned: fine
])
def test_the_date_rule_passes_relative_dates_and_pinned_tests(source: str) -> None:
    assert written_dates(source) == []


@pytest.mark.parametrize("path", sorted(TESTS.glob("test_*.py")), ids=lambda p: p.name)
def test_browser_tests_write_no_calendar_date(path: Path) -> None:
    """The browser tests run on the machine's clock: a date written in them breaks on some day."""
    assert written_dates(path.read_text(encoding="utf-8")) == []


@pytest.mark.skipif(shutil.which("faketime") is None and not os.environ.get("CI"),
                    reason="Debian's faketime is not installed (CI installs it)")
@pytest.mark.skipif("FAKETIME" in os.environ,
                    reason="the whole suite already runs under faketime: this is that run")
def test_the_date_bound_tests_pass_with_the_clock_years_ahead() -> None:
    """The tests that name dates, run in a child whose clock says June 2031."""
    files = ["tests/test_due_times.py", "tests/test_i18n_students.py", "tests/test_deadline.py",
             "tests/test_clock.py"]
    env = {**os.environ, "FAKETIME_DONT_RESET": "1"}
    year = subprocess.run(["faketime", "2031-06-01 12:00:00", sys.executable, "-c",
                           "import time; print(time.gmtime().tm_year)"], env=env, capture_output=True, text=True)
    assert year.stdout.strip() == "2031"  # the child's clock is really years ahead
    result = subprocess.run(["faketime", "2031-06-01 12:00:00", sys.executable, "-m", "pytest", "-q",
                             "-p", "no:randomly", "-p", "no:cacheprovider", "-m", "not browser",
                             "-k", "not years_ahead", *files],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert " passed" in result.stdout and "failed" not in result.stdout
