"""The import rules of the project, read from the source with ``ast`` (nothing is imported).

Imports run one way: views -> services -> engine/marking/formulas/mistakes/grader. The
computation is pure Python without Django, and student text never reaches a string evaluator.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
GRADING = ROOT / "grading"

COMPUTATION = ("grading.engine", "grading.marking", "grading.formulas", "grading.mistakes",
               "grading.grade", "grading.keyaudit")
SHARED_WITH_WEB = ("grading.engine.text", "grading.engine.grids")  # pure, and the web layer's words too
DJANGO_LAYER = ("django", "grading.models", "grading.services", "grading.selectors", "grading.views",
                "grading.permissions", "grading.forms", "grading.admin", "grading.tasks",
                "grading.templatetags", "grading.management", "backprop_site")
WEB_LAYER = sorted([*GRADING.glob("views/*.py"), GRADING / "forms.py", GRADING / "authoring_form.py",
                    GRADING / "admin.py", *GRADING.glob("templatetags/*.py")])
PURE_PACKAGES = ("engine", "marking", "formulas", "mistakes", "keyaudit", "grade", "figures")
PURE = sorted(p for package in PURE_PACKAGES for p in (GRADING / package).rglob("*.py"))
VIEWS = sorted([*GRADING.glob("views/*.py"), GRADING / "forms.py", GRADING / "authoring_form.py",
                *GRADING.glob("templatetags/*.py")])
ALL_GRADING = sorted(p for p in GRADING.rglob("*.py"))
STRING_EVALUATORS = {"eval", "exec", "sympify", "parse_expr"}


def _rel(path: Path) -> str:
    return str(path.relative_to(ROOT))


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _package(path: Path) -> str:
    module = _module_name(path)
    return module if path.name == "__init__.py" else module.rpartition(".")[0]


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _nodes(tree: ast.AST, *, skip_type_checking: bool) -> Iterator[ast.AST]:
    """Every node, in functions and classes too; optionally not under ``if TYPE_CHECKING:``."""
    for node in ast.iter_child_nodes(tree):
        if skip_type_checking and isinstance(node, ast.If) and _is_type_checking(node.test):
            for other in node.orelse:  # the else branch runs
                yield other
                yield from _nodes(other, skip_type_checking=True)
            continue
        yield node
        yield from _nodes(node, skip_type_checking=skip_type_checking)


def imported_modules(path: Path, *, skip_type_checking: bool = False) -> Iterator[tuple[int, str]]:
    """(line, absolute module name) of every import in a file, relative ones resolved.

    ``from grading import engine`` yields both ``grading`` and ``grading.engine``;
    ``importlib.import_module("x")`` and ``__import__("x")`` with a literal name count too.
    """
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in _nodes(tree, skip_type_checking=skip_type_checking):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = _package(path).split(".")
                base = base[:len(base) - (node.level - 1)]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module or ""
            yield node.lineno, module
            for alias in node.names:
                yield node.lineno, f"{module}.{alias.name}"
        elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant) \
                and isinstance(node.args[0].value, str):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name in {"import_module", "__import__"}:
                yield node.lineno, node.args[0].value


def _within(module: str, packages: tuple[str, ...]) -> bool:
    if packages is COMPUTATION and _within(module, SHARED_WITH_WEB):
        return False
    return any(module == p or module.startswith(p + ".") for p in packages)


def _offending(path: Path, packages: tuple[str, ...], **options: bool) -> list[str]:
    """One "file:line imports module" message per import line that reaches into ``packages``."""
    found: dict[int, str] = {}
    for line, module in imported_modules(path, **options):
        if _within(module, packages):
            found.setdefault(line, module)
    return [f"{_rel(path)}:{line} imports {module}" for line, module in sorted(found.items())]


def test_the_rule_files_exist() -> None:
    """The lists the rules below walk are not empty (a moved folder must not pass them silently)."""
    assert len(WEB_LAYER) >= 6 and GRADING / "views" / "staff.py" in WEB_LAYER
    assert all(p.exists() for p in PURE) and len(PURE) >= 15


@pytest.mark.parametrize("path", WEB_LAYER, ids=_rel)
def test_web_layer_reads_the_computation_only_through_services(path: Path) -> None:
    """Views, forms and template tags never import engine, marking, formulas, mistakes or grader.

    Lazy imports inside functions count; imports under ``if TYPE_CHECKING:`` (type hints only,
    never run) do not.
    """
    offending = _offending(path, COMPUTATION, skip_type_checking=True)
    assert not offending, "the web layer must go through grading.services:\n" + "\n".join(offending)


@pytest.mark.parametrize("path", PURE, ids=_rel)
def test_computation_does_not_import_django(path: Path) -> None:
    """The engine, marking, formulas, key audit, mistakes, grader, report, ledger, plots and
    analytics are pure: nothing from Django or from the app's Django layer (models, services, ...)."""
    offending = _offending(path, DJANGO_LAYER)
    assert not offending, "the computation must not depend on Django:\n" + "\n".join(offending)


def queries_in(source: str, filename: str = "<source>") -> list[str]:
    """Where a module queries models itself: ``X.objects``, a model import outside
    ``if TYPE_CHECKING:``, or a related manager's ``.all()/.filter()/...`` on ``.something_set``."""
    tree = ast.parse(source, filename=filename)
    found = []
    for node in _nodes(tree, skip_type_checking=True):
        if isinstance(node, ast.Attribute) and node.attr == "objects":
            found.append(f"{filename}:{node.lineno} uses .objects")
        elif isinstance(node, ast.ImportFrom) and node.module == "grading.models":
            found.append(f"{filename}:{node.lineno} imports grading.models")
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                and node.func.attr in {"filter", "exclude", "order_by", "values_list",
                                       "select_related", "prefetch_related", "aggregate", "annotate"}:
            found.append(f"{filename}:{node.lineno} calls .{node.func.attr}()")
    return found


def test_the_query_rule_can_fail() -> None:
    """The rule below finds each kind of query it is meant to (a rule that cannot fail guards nothing)."""
    bad = ("from grading.models import Submission\n"
           "def view(request, a):\n"
           "    rows = Submission.objects.all()\n"
           "    return a.questions.filter(kind='round')\n")
    assert len(queries_in(bad)) == 3
    good = ("from typing import TYPE_CHECKING\n"
            "if TYPE_CHECKING:\n    from grading.models import Submission\n"
            "def view(request):\n    return selectors.class_rows(request)\n")
    assert queries_in(good) == []


@pytest.mark.parametrize("path", VIEWS, ids=_rel)
def test_views_do_not_query_models_directly(path: Path) -> None:
    """Views, forms and template tags read through grading.selectors and write through
    grading.services; they never build a queryset (imports for type hints only are fine)."""
    offending = queries_in(path.read_text(encoding="utf-8"), _rel(path))
    assert not offending, "query in the web layer; move it to grading/selectors:\n" + "\n".join(offending)


@pytest.mark.parametrize("path", ALL_GRADING, ids=_rel)
def test_no_string_evaluation_and_no_pyplot(path: Path) -> None:
    """No module under grading/ calls eval, exec, sympify or parse_expr, or imports matplotlib.pyplot.

    Student text is parsed by our own parser only; pyplot keeps global state that leaks in a
    threaded web server (plots draw on a Figure).
    """
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    offending = []
    for node in _nodes(tree, skip_type_checking=False):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            # x.eval(...) is an ordinary method; only the builtins eval/exec evaluate strings.
            if name in STRING_EVALUATORS and (isinstance(func, ast.Name) or name in {"sympify", "parse_expr"}
                                              or getattr(func.value, "id", "") == "builtins"):
                offending.append(f"{_rel(path)}:{node.lineno} calls {name}")
    offending += _offending(path, ("matplotlib.pyplot", "pylab"))
    offending += [f"{_rel(path)}:{line} imports {module}" for line, module in imported_modules(path)
                  if module.rpartition(".")[2] in {"sympify", "parse_expr"}]
    assert not offending, "forbidden in grading/:\n" + "\n".join(offending)
