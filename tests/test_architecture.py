"""The architecture of the project, read from the source with ``ast`` (nothing of the app is imported).

Imports run one way: views -> services/selectors -> engine/marking/formulas/models. The
computation (the pure packages) is Python without Django; only grading/services writes; the web
layer neither queries nor computes; student text never reaches a string evaluator.

Every rule is a function ``rule(source, filename) -> ["file:line what", ...]`` over source text,
so it can be shown failing: each carries samples it must flag and samples it must pass (tested
below, one test each), and then runs over the project's own files. ``filename`` is the path from
the repository root; it resolves relative imports and says where a sample pretends to live.
"""

from __future__ import annotations

import ast
import functools
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
GRADING = ROOT / "grading"

# The one list of pure packages (grading/<name>/): every module in them is pure.
PURE_PACKAGES = ("engine", "marking", "formulas", "mistakes", "keyaudit", "grade", "figures")
# The Django side's packages; with PURE_PACKAGES they are every package under grading/.
DJANGO_PACKAGES = ("services", "selectors", "views", "templatetags", "management", "migrations", "lti")

COMPUTATION = ("grading.engine", "grading.marking", "grading.formulas", "grading.mistakes",
               "grading.grade", "grading.keyaudit")
SHARED_WITH_WEB = ("grading.engine.text", "grading.engine.grids")  # pure, and the web layer's words too
ABOVE_THE_ENGINE = ("grading.marking", "grading.formulas", "grading.mistakes", "grading.grade",
                    "grading.figures", "grading.keyaudit")
DJANGO_LAYER = ("django", "grading.models", "grading.services", "grading.selectors", "grading.views",
                "grading.forms", "grading.authoring_form", "grading.admin", "grading.tasks",
                "grading.templatetags", "grading.management", "grading.permissions",
                "grading.middleware", "grading.urls", "grading.apps", "grading.migrations", "grading.lti",
                "backprop_site")
WEB_MODULES = ("grading.views", "grading.forms", "grading.authoring_form", "grading.admin",
               "grading.templatetags", "grading.middleware", "grading.urls")
MODEL_MODULES = ("grading.models", "django.contrib.auth.models")


def _files(*patterns: str) -> list[Path]:
    return sorted({p for pattern in patterns for p in ROOT.glob(pattern)})


PURE = _files(*(f"grading/{package}/**/*.py" for package in PURE_PACKAGES))
ENGINE = _files("grading/engine/**/*.py")
WEB_LAYER = _files("grading/views/*.py", "grading/forms.py", "grading/authoring_form.py",
                   "grading/admin.py", "grading/templatetags/*.py")
NO_QUERIES = _files("grading/views/*.py", "grading/forms.py", "grading/authoring_form.py",
                    "grading/templatetags/*.py")
BELOW_THE_WEB = _files("grading/services/**/*.py", "grading/selectors/**/*.py")
EVERYTHING = _files("grading/**/*.py", "backprop_site/**/*.py")
# Writes belong in services (and migrations). Management commands, tasks.py and admin.py call
# services; the admin's own ModelAdmin saving (super().save_model) is Django's, not a call here.
MAY_WRITE = ("grading/services/", "grading/migrations/")


def _rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()




# ------------------------------------------------------------------ reading source


@functools.lru_cache(maxsize=512)
def _tree(source: str, filename: str) -> ast.Module:
    return ast.parse(source, filename=filename)


def _package(filename: str) -> list[str]:
    """The package a file's relative imports start from, as parts."""
    parts = list(Path(filename).with_suffix("").parts)
    return parts[:-1]  # a module's package, or for __init__ the package itself


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _nodes(tree: ast.AST, *, skip_type_checking: bool = False) -> Iterator[ast.AST]:
    """Every node, in functions and classes too; optionally not under ``if TYPE_CHECKING:``."""
    for node in ast.iter_child_nodes(tree):
        if skip_type_checking and isinstance(node, ast.If) and _is_type_checking(node.test):
            for other in node.orelse:  # the else branch runs
                yield other
                yield from _nodes(other, skip_type_checking=True)
            continue
        yield node
        yield from _nodes(node, skip_type_checking=skip_type_checking)


def imported_modules(source: str, filename: str, *,
                     skip_type_checking: bool = False) -> Iterator[tuple[int, str]]:
    """(line, absolute dotted name) of every import, lazy ones in functions too.

    ``import a.b`` yields ``a.b``; ``from a import b`` yields ``a.b`` (relative ones resolved
    from ``filename``); ``importlib.import_module("x")`` and ``__import__("x")`` with a literal
    name yield ``x``.
    """
    for node in _nodes(_tree(source, filename), skip_type_checking=skip_type_checking):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = _package(filename)
                base = base[:len(base) - (node.level - 1)]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module or ""
            for alias in node.names:
                yield node.lineno, f"{module}.{alias.name}"
        elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant) \
                and isinstance(node.args[0].value, str):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name in {"import_module", "__import__"}:
                yield node.lineno, node.args[0].value


def _within(module: str, packages: tuple[str, ...]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in packages)


def _imports_into(source: str, filename: str, packages: tuple[str, ...], *, but: tuple[str, ...] = (),
                  skip_type_checking: bool = False) -> list[str]:
    """One "file:line imports module" per import line reaching into ``packages`` (not ``but``)."""
    found: dict[int, str] = {}
    for line, module in imported_modules(source, filename, skip_type_checking=skip_type_checking):
        if _within(module, packages) and not _within(module, but):
            found.setdefault(line, module)
    return [f"{filename}:{line} imports {module}" for line, module in sorted(found.items())]


def _chain(node: ast.expr) -> list[str] | None:
    """``a.b.c`` as ["a", "b", "c"]; None when the expression is not names and attributes."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(node.id)
    return parts[::-1]


def _related_managers(source: str) -> frozenset[str]:
    """The related managers the models declare: every ``related_name`` (not "+") and every
    many-to-many field; with the auth user's own (groups, user_permissions)."""
    names = {"groups", "user_permissions"}
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.keyword) and node.arg == "related_name" \
                and isinstance(node.value, ast.Constant) and not str(node.value.value).endswith("+"):
            names.add(node.value.value)
        elif isinstance(node, ast.Assign) and isinstance(node.value, ast.Call) \
                and (_chain(node.value.func) or [""])[-1] == "ManyToManyField":
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
    return frozenset(names)


RELATED_MANAGERS = _related_managers((GRADING / "models.py").read_text(encoding="utf-8"))


# ------------------------------------------------------------------ 1. the pure packages


def django_in_pure(source: str, filename: str) -> list[str]:
    """Rule 1: a pure module imports nothing of Django or of the app's Django layer (models,
    services, selectors, views, forms, admin, tasks, template tags, commands, permissions,
    middleware, backprop_site), lazily in a function or by ``importlib.import_module`` neither,
    nor for type hints (the pure packages must import without Django installed)."""
    return _imports_into(source, filename, DJANGO_LAYER)


# ------------------------------------------------------------------ 2. the engine at the bottom


def engine_reaching_up(source: str, filename: str) -> list[str]:
    """Rule 2: the engine imports nothing of marking, formulas, mistakes, grade, figures or
    keyaudit (they are built on it)."""
    return _imports_into(source, filename, ABOVE_THE_ENGINE)


# ------------------------------------------------------------------ 3. the web layer computes nothing


def computation_in_web(source: str, filename: str) -> list[str]:
    """Rule 3: views, forms, the authoring form, the admin and template tags never import the
    computation (it is reached through services and selectors), except the shared words
    (grading.engine.text, grading.engine.grids). Imports under ``if TYPE_CHECKING:`` are fine."""
    return _imports_into(source, filename, COMPUTATION, but=SHARED_WITH_WEB, skip_type_checking=True)


# ------------------------------------------------------------------ 4. the web layer queries nothing

# Methods only a queryset or a manager has in this code: flagged on any receiver.
QUERYSET_ONLY = {"filter", "exclude", "order_by", "values_list", "select_related", "prefetch_related",
                 "aggregate", "annotate"}
# Methods dicts, strings, lists and paths have too (dict.get, str.count, form.errors.values(),
# Path.exists): flagged only when the receiver is a related manager (see _manager).
QUERYSET_TOO = {"all", "count", "get", "first", "last", "exists", "values"}
# What a request carries that is plain data, not the database.
REQUEST_DATA = {"GET", "POST", "COOKIES", "META", "FILES", "headers", "session", "resolver_match",
                "content_params", "content_type", "method", "path"}


def _manager(node: ast.expr) -> str | None:
    """The dotted receiver when it looks like a related manager, else None.

    The heuristic: an attribute chain of at least two names (``x.y``) that
      - ends in a related manager the models declare (``assignment.questions``,
        ``request.user.submissions``: RELATED_MANAGERS, read from models.py) or in ``_set``, or
      - starts at ``request``/``self.request`` and goes anywhere but its plain data
        (``request.user.anything`` counts; ``request.GET``, ``request.session`` do not).
    A call, a subscript or a bare name as receiver (``data.get``, ``str(x).count``) is never one;
    nor is a chain ending in a plain attribute (``form.cleaned_data.get``, ``row.scores.get``).
    """
    chain = _chain(node)
    if chain is None or len(chain) < 2:
        return None
    if chain[-1] in RELATED_MANAGERS or chain[-1].endswith("_set"):
        return ".".join(chain)
    rest = chain[2:] if chain[:2] == ["self", "request"] else chain[1:] if chain[0] == "request" else None
    if rest and rest[0] not in REQUEST_DATA:
        return ".".join(chain)
    return None


def queries_in(source: str, filename: str) -> list[str]:
    """Rule 4: views, forms and template tags never query: no ``X.objects``, no model import
    outside ``if TYPE_CHECKING:``, no queryset method (``.filter()`` ...), no ``.all()/.count()/
    .get()/.first()/.exists()/...`` on a related manager, no ``.something_set``. They read
    through grading.selectors."""
    found = [f"{filename}:{line} imports {module}" for line, module in
             imported_modules(source, filename, skip_type_checking=True) if _within(module, MODEL_MODULES)]
    for node in _nodes(_tree(source, filename), skip_type_checking=True):
        if isinstance(node, ast.Attribute) and node.attr == "objects":
            found.append(f"{filename}:{node.lineno} uses {ast.unparse(node)}")
        elif isinstance(node, ast.Attribute) and node.attr.endswith("_set"):
            found.append(f"{filename}:{node.lineno} uses the related manager .{node.attr}")
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            method = node.func.attr
            if method in QUERYSET_ONLY:
                found.append(f"{filename}:{node.lineno} calls .{method}()")
            elif method in QUERYSET_TOO and (manager := _manager(node.func.value)) is not None \
                    and not manager.endswith("_set"):  # already reported as .something_set
                found.append(f"{filename}:{node.lineno} calls {manager}.{method}()")
        elif isinstance(node, ast.Call) and (_chain(node.func) or [""])[-1] == "get_user_model":
            found.append(f"{filename}:{node.lineno} calls get_user_model()")
    return found


# ------------------------------------------------------------------ 5. writes only in services

# Write methods whatever the receiver (no dict or list in this code has them).
WRITE_ALWAYS = {"save", "delete", "bulk_create", "bulk_update", "get_or_create", "update_or_create"}
# Writes only on a manager or queryset (dict.update, set.add, list.clear are ordinary Python).
WRITE_ON_QUERYSET = {"create", "update", "add", "remove", "clear", "set"}


def _from_a_manager(node: ast.expr) -> bool:
    """Whether an expression is reached from ``X.objects`` or a related manager, through calls
    and attributes (``Submission.objects.filter(...).update``, ``request.user.submissions``)."""
    while True:
        if isinstance(node, ast.Attribute):
            if node.attr == "objects" or _manager(node) is not None:
                return True
            node = node.value
        elif isinstance(node, ast.Call):
            node = node.func
        elif isinstance(node, ast.Subscript):
            node = node.value
        else:
            return False


def writes_in(source: str, filename: str) -> list[str]:
    """Rule 5: only grading/services writes (and migrations): no ``.save()``, ``.delete()``,
    ``bulk_create``, ``get_or_create``, ``update_or_create``, nor ``.create()/.update()/.add()/
    .remove()/.clear()/.set()`` on a manager or queryset. ``transaction.atomic`` is fine. In
    grading/models.py a model's own methods (a custom save) may write."""
    if filename.startswith(MAY_WRITE):
        return []
    tree = _tree(source, filename)
    model_methods = [(c.lineno, c.end_lineno or c.lineno) for c in tree.body
                     if isinstance(c, ast.ClassDef)] if filename == "grading/models.py" else []
    found = []
    for node in _nodes(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        method, receiver = node.func.attr, node.func.value
        if any(start <= node.lineno <= end for start, end in model_methods):
            continue
        if method in WRITE_ALWAYS or (method in WRITE_ON_QUERYSET and _from_a_manager(receiver)):
            found.append(f"{filename}:{node.lineno} writes: {ast.unparse(node.func)}()")
    return found


# ------------------------------------------------------------------ 6. no string evaluation

EVALUATORS = {"eval", "exec", "compile"}
SYMPY_PARSERS = {"sympify", "parse_expr"}


def string_evaluation_in(source: str, filename: str) -> list[str]:
    """Rule 6: nothing evaluates a string: no eval/exec/compile (the builtins; ``re.compile`` is
    fine) called, aliased (``_evaluate = eval``) or reached (``builtins.eval``, ``getattr(builtins,
    "eval")``, ``from builtins import eval as e``); no sympy string parsing (``sympify``,
    ``parse_expr``, anything of ``sympy.parsing``, ``sympy.S(...)`` of a non-literal); and no
    matplotlib.pyplot or pylab (global state that leaks between threads: plots draw on a Figure)."""
    tree = _tree(source, filename)
    found = []
    for line, module in imported_modules(source, filename):
        last = module.rpartition(".")[2]
        if (module.startswith("builtins.") and last in EVALUATORS) or last in SYMPY_PARSERS \
                or _within(module, ("sympy.parsing", "matplotlib.pyplot", "pylab")) \
                or (module.startswith("sympy") and last == "*"):
            found.append(f"{filename}:{line} imports {module}")
    builtins_names, sympy_names, s_names = {"builtins", "__builtins__"}, set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == "builtins":
                    builtins_names.add(alias.asname or "builtins")
                elif alias.name == "sympy":
                    sympy_names.add(alias.asname or "sympy")
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("sympy"):
            s_names.update(alias.asname or "S" for alias in node.names if alias.name == "S")
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}

    def is_sympy_s(node: ast.AST) -> bool:
        return (isinstance(node, ast.Name) and node.id in s_names) or (
            isinstance(node, ast.Attribute) and node.attr == "S"
            and isinstance(node.value, ast.Name) and node.value.id in sympy_names)

    for node in ast.walk(tree):
        where = f"{filename}:{getattr(node, 'lineno', 0)}"
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) and node.id in EVALUATORS:
            found.append(f"{where} uses {node.id}")
        elif isinstance(node, ast.Attribute) and node.attr in EVALUATORS \
                and isinstance(node.value, ast.Name) and node.value.id in builtins_names:
            found.append(f"{where} uses {ast.unparse(node)}")
        elif isinstance(node, (ast.Name, ast.Attribute)) and isinstance(node.ctx, ast.Load) \
                and (node.id if isinstance(node, ast.Name) else node.attr) in SYMPY_PARSERS:
            found.append(f"{where} uses {ast.unparse(node)}")
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "getattr" \
                and len(node.args) >= 2 and isinstance(node.args[0], ast.Name) \
                and node.args[0].id in builtins_names and not (
                    isinstance(node.args[1], ast.Constant) and node.args[1].value not in EVALUATORS):
            found.append(f"{where} uses {ast.unparse(node)}")
        elif is_sympy_s(node):
            parent = parents.get(node)
            if isinstance(parent, ast.Call) and parent.func is node:
                if not all(isinstance(a, ast.Constant) for a in [*parent.args, *(k.value for k in parent.keywords)]):
                    found.append(f"{where} calls {ast.unparse(parent)} (sympy parses a string argument)")
            elif not (isinstance(parent, ast.Attribute) and parent.value is node):  # S.Half is fine
                found.append(f"{where} aliases {ast.unparse(node)}")
    return found


# ------------------------------------------------------------------ 7. services and selectors below the web


def web_below(source: str, filename: str) -> list[str]:
    """Rule 7: services and selectors never import the web layer (views, forms, authoring form,
    admin, template tags, middleware, urls); selectors, which only read, never import services."""
    packages = (*WEB_MODULES, "grading.services") if filename.startswith("grading/selectors/") else WEB_MODULES
    return _imports_into(source, filename, packages)


# ------------------------------------------------------------------ exemptions

# (rule, file, what the offence says) -> why it stays. Today none: every write outside
# grading/services was moved into a service (seed_demo's accounts: services.people).
EXEMPTIONS: dict[tuple[str, str, str], str] = {}


def _exempt(rule: str, offence: str, exemptions: dict[tuple[str, str, str], str]) -> bool:
    return any(rule == r and offence.startswith(f"{file}:") and what in offence for r, file, what in exemptions)


def unused_exemptions(exemptions: dict[tuple[str, str, str], str], offences: dict[str, list[str]]) -> list:
    """The exemptions that match no offence any more (a stale exemption would hide a new one)."""
    return [key for key in exemptions if not any(_exempt(key[0], o, {key: ""}) for o in offences.get(key[0], []))]


# ------------------------------------------------------------------ samples: each rule can fail

ENGINE_TEXT = "grading/engine/text.py"
VIEW = "grading/views/student.py"
FORMULAS = "grading/formulas/check.py"
SERVICE = "grading/services/people.py"
SELECTOR = "grading/selectors/grades.py"

MUST_FLAG = [
    # 1. the pure packages
    pytest.param(django_in_pure, ENGINE_TEXT, "from django.utils.translation import gettext as _\n",
                 id="pure-django-import-in-text-module"),
    pytest.param(django_in_pure, ENGINE_TEXT, "def f():\n    from django.conf import settings\n",
                 id="pure-lazy-django-import"),
    pytest.param(django_in_pure, ENGINE_TEXT, "import importlib\nm = importlib.import_module('django.db')\n",
                 id="pure-import-module-django"),
    pytest.param(django_in_pure, "grading/marking/typed.py", "from .. import models\n", id="pure-relative-models"),
    pytest.param(django_in_pure, "grading/grade/report.py", "from grading.services import grades\n",
                 id="pure-imports-services"),
    pytest.param(django_in_pure, "grading/figures/plots.py", "import backprop_site.settings\n",
                 id="pure-imports-site"),
    # 2. the engine at the bottom
    pytest.param(engine_reaching_up, "grading/engine/cells.py", "from grading.marking import numbers\n",
                 id="engine-imports-marking"),
    pytest.param(engine_reaching_up, "grading/engine/cells.py", "from ..formulas.parser import parse\n",
                 id="engine-relative-formulas"),
    pytest.param(engine_reaching_up, "grading/engine/graph.py", "def f():\n    import grading.figures.plots\n",
                 id="engine-lazy-figures"),
    # 3. the web layer computes nothing
    pytest.param(computation_in_web, VIEW, "from grading.grade import grader\n", id="web-imports-grader"),
    pytest.param(computation_in_web, VIEW, "from grading.engine import Spec\n", id="web-imports-engine"),
    pytest.param(computation_in_web, "grading/forms.py", "def f():\n    from .formulas import check\n",
                 id="web-lazy-relative-formulas"),
    # 4. the web layer queries nothing
    pytest.param(queries_in, VIEW, "def view(request):\n    return request.user.submissions.count()\n",
                 id="query-request-user-submissions-count"),
    pytest.param(queries_in, VIEW, "def view(request):\n    return request.user.submissions.all()\n",
                 id="query-request-user-submissions-all"),
    pytest.param(queries_in, VIEW, "def view(request, assignment):\n    return list(assignment.questions.all())\n",
                 id="query-assignment-questions-all"),
    pytest.param(queries_in, VIEW, "class V:\n    def get(self):\n        return self.request.user.memberships.exists()\n",
                 id="query-self-request-user-exists"),
    pytest.param(queries_in, VIEW, "def view(a):\n    return a.submissions.first()\n", id="query-manager-first"),
    pytest.param(queries_in, VIEW, "def view(s):\n    return s.grading_set.last()\n", id="query-something-set"),
    pytest.param(queries_in, VIEW, "def view(a):\n    return a.questions.filter(kind='round')\n",
                 id="query-filter"),
    pytest.param(queries_in, VIEW, "def view(x):\n    return Submission.objects\n", id="query-objects"),
    pytest.param(queries_in, VIEW, "from grading.models import Submission\n", id="query-model-import"),
    pytest.param(queries_in, "grading/forms.py", "from . import models\n", id="query-relative-model-import"),
    pytest.param(queries_in, "grading/templatetags/grading_tags.py",
                 "def tag(user):\n    return get_user_model()\n", id="query-get-user-model"),
    # 5. writes only in services
    pytest.param(writes_in, VIEW, "def view(request, grading):\n    grading.save()\n", id="write-save-in-view"),
    pytest.param(writes_in, VIEW, "def view(s):\n    s.delete()\n", id="write-delete"),
    pytest.param(writes_in, "grading/management/commands/seed_demo.py",
                 "Course.objects.create(code='X')\n", id="write-objects-create"),
    pytest.param(writes_in, "grading/tasks.py", "Submission.objects.filter(pk=1).update(late=True)\n",
                 id="write-queryset-update"),
    pytest.param(writes_in, "grading/admin.py", "Membership.objects.get_or_create(user=u)\n",
                 id="write-get-or-create"),
    pytest.param(writes_in, VIEW, "def view(request):\n    request.user.submissions.create(attempt=1)\n",
                 id="write-related-create"),
    pytest.param(writes_in, VIEW, "def view(form):\n    return form.save()\n", id="write-model-form-save"),
    pytest.param(writes_in, "grading/models.py", "def helper(x):\n    x.save()\n",
                 id="write-models-module-level"),
    # 6. no string evaluation
    pytest.param(string_evaluation_in, FORMULAS, "_evaluate = eval\n", id="eval-alias"),
    pytest.param(string_evaluation_in, FORMULAS, "def f(text):\n    return eval(text)\n", id="eval-call"),
    pytest.param(string_evaluation_in, FORMULAS, "def f(text):\n    exec(text)\n", id="exec-call"),
    pytest.param(string_evaluation_in, FORMULAS, "code = compile(t, 'x', 'eval')\n", id="compile-call"),
    pytest.param(string_evaluation_in, FORMULAS, "import builtins\nbuiltins.eval(t)\n", id="builtins-eval"),
    pytest.param(string_evaluation_in, FORMULAS, "import builtins as b\nb.exec(t)\n", id="builtins-alias-exec"),
    pytest.param(string_evaluation_in, FORMULAS, "import builtins\ngetattr(builtins, 'eval')(t)\n",
                 id="getattr-builtins-eval"),
    pytest.param(string_evaluation_in, FORMULAS, "from builtins import eval as e\n", id="from-builtins-eval-as"),
    pytest.param(string_evaluation_in, FORMULAS, "import sympy\ne = sympy.sympify(text)\n", id="sympy-sympify"),
    pytest.param(string_evaluation_in, FORMULAS, "from sympy import sympify\n", id="import-sympify"),
    pytest.param(string_evaluation_in, FORMULAS, "from sympy.parsing.sympy_parser import standard_transformations\n",
                 id="sympy-parsing-import"),
    pytest.param(string_evaluation_in, FORMULAS, "import sympy\ne = sympy.S(text)\n", id="sympy-S-text"),
    pytest.param(string_evaluation_in, FORMULAS, "import sympy as sp\ne = sp.S(text)\n", id="sp-S-text"),
    pytest.param(string_evaluation_in, FORMULAS, "from sympy import S\ne = S(text)\n", id="S-text"),
    pytest.param(string_evaluation_in, FORMULAS, "from sympy import S as Sym\nf = Sym\n", id="S-alias"),
    pytest.param(string_evaluation_in, "grading/figures/plots.py", "import matplotlib.pyplot as plt\n",
                 id="pyplot"),
    pytest.param(string_evaluation_in, "grading/figures/plots.py", "from matplotlib import pyplot\n",
                 id="from-matplotlib-pyplot"),
    pytest.param(string_evaluation_in, "backprop_site/settings.py", "from pylab import plot\n", id="pylab"),
    # 7. services and selectors below the web
    pytest.param(web_below, SERVICE, "from grading.views import common\n", id="service-imports-views"),
    pytest.param(web_below, SERVICE, "def f():\n    from grading.forms import AnswerForm\n",
                 id="service-lazy-imports-forms"),
    pytest.param(web_below, SELECTOR, "from grading import services\n", id="selector-imports-services"),
]

MUST_PASS = [
    pytest.param(django_in_pure, ENGINE_TEXT, "import numpy as np\nfrom grading.engine import cells\n",
                 id="pure-numpy-and-engine"),
    pytest.param(django_in_pure, ENGINE_TEXT, "from .cells import Place\nimport djangoish\n",
                 id="pure-relative-and-lookalike"),
    pytest.param(engine_reaching_up, "grading/engine/cells.py", "from grading.engine.text import t\nfrom . import graph\n",
                 id="engine-own-modules"),
    pytest.param(computation_in_web, VIEW, "from grading.engine.text import message\nfrom grading.engine import grids\n",
                 id="web-shared-words"),
    pytest.param(computation_in_web, VIEW, "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
                 "    from grading.grade.report import Report\nfrom grading import selectors, services\n",
                 id="web-type-checking-only"),
    pytest.param(queries_in, VIEW, "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
                 "    from grading.models import Submission\ndef view(request):\n"
                 "    return selectors.class_rows(request.user)\n", id="query-type-checking-and-selector"),
    pytest.param(queries_in, VIEW, "def view(request, form, row, data):\n"
                 "    a = request.GET.get('q'); b = request.POST.get('x'); c = request.headers.get('h')\n"
                 "    d = self.request.session.get('k'); e = form.cleaned_data.get('x'); f = row.scores.get('q1')\n"
                 "    g = data.get('x'); h = text.count('a'); i = form.errors.values(); j = len(rows.all)\n"
                 "    k = Path(p).exists(); m = words.first(); n = submission.answers.get('x')\n",
                 id="query-ordinary-python"),
    pytest.param(writes_in, SERVICE, "def f(s):\n    s.save()\n    Course.objects.create(code='X')\n",
                 id="write-in-service"),
    pytest.param(writes_in, "grading/migrations/0002_x.py", "def forwards(apps, schema):\n    obj.save()\n",
                 id="write-in-migration"),
    pytest.param(writes_in, "grading/models.py", "class Assignment(Model):\n    def save(self, *a, **k):\n"
                 "        super().save(*a, **k)\n", id="write-model-custom-save"),
    pytest.param(writes_in, VIEW, "def view(request, data, seen, rows):\n    data.update(x=1); seen.add(2); rows.clear()\n"
                 "    with transaction.atomic():\n        services.submission_submit(assignment=a)\n"
                 "    fig.savefig(buf); context.update(form=form)\n", id="write-ordinary-python"),
    pytest.param(string_evaluation_in, FORMULAS, "import re\nimport sympy as sp\n_N = re.compile('x')\n"
                 "half = sp.S.Half\none = sp.S(1)\nx = sp.Symbol(name)\nv = graph.evaluate()\n"
                 "def parse(text):\n    return our_parser.parse(text)\n", id="eval-lookalikes"),
    pytest.param(string_evaluation_in, "grading/figures/plots.py", "from matplotlib.figure import Figure\n",
                 id="figure-not-pyplot"),
    pytest.param(web_below, SERVICE, "from grading import selectors, tasks\nfrom grading.engine import text\n",
                 id="service-imports-selectors"),
]

RULES: list[Callable[[str, str], list[str]]] = [django_in_pure, engine_reaching_up, computation_in_web,
                                                 queries_in, writes_in, string_evaluation_in, web_below]


@pytest.mark.parametrize(("rule", "filename", "source"), MUST_FLAG)
def test_the_rule_flags(rule: Callable[[str, str], list[str]], filename: str, source: str) -> None:
    """Each sample breaks its rule once, and the rule says where (a rule that cannot fail guards nothing)."""
    found = rule(source, filename)
    assert len(found) == 1, found
    assert found[0].startswith(f"{filename}:")


@pytest.mark.parametrize(("rule", "filename", "source"), MUST_PASS)
def test_the_rule_passes(rule: Callable[[str, str], list[str]], filename: str, source: str) -> None:
    """Each sample keeps its rule, so the rule does not flag ordinary code."""
    assert rule(source, filename) == []


def test_every_rule_has_samples_both_ways() -> None:
    flag = {p.values[0] for p in MUST_FLAG}
    keep = {p.values[0] for p in MUST_PASS}
    assert flag == keep == set(RULES)


# ------------------------------------------------------------------ the project's files

CHECKS = [
    pytest.param(django_in_pure, PURE, id="1-pure-packages-without-django"),
    pytest.param(engine_reaching_up, ENGINE, id="2-engine-at-the-bottom"),
    pytest.param(computation_in_web, WEB_LAYER, id="3-web-layer-computes-nothing"),
    pytest.param(queries_in, NO_QUERIES, id="4-web-layer-queries-nothing"),
    pytest.param(writes_in, EVERYTHING, id="5-writes-only-in-services"),
    pytest.param(string_evaluation_in, EVERYTHING, id="6-no-string-evaluation-no-pyplot"),
    pytest.param(web_below, BELOW_THE_WEB, id="7-services-and-selectors-below-the-web"),
]


def _offences(rule: Callable[[str, str], list[str]], files: list[Path]) -> list[str]:
    return [offence for path in files for offence in rule(path.read_text(encoding="utf-8"), _rel(path))]


@pytest.mark.parametrize(("rule", "files"), CHECKS)
def test_the_project_keeps_the_rule(rule: Callable[[str, str], list[str]], files: list[Path]) -> None:
    offending = [o for o in _offences(rule, files) if not _exempt(rule.__name__, o, EXEMPTIONS)]
    assert not offending, f"{rule.__doc__}\n" + "\n".join(offending)


def test_every_exemption_still_matches_something() -> None:
    """An exemption whose offence is gone is removed (it would silently excuse a new one)."""
    rules = {p.values[0].__name__: p.values for p in CHECKS}
    offences = {name: _offences(rule, files) for name, (rule, files) in rules.items()
                if any(key[0] == name for key in EXEMPTIONS)}
    assert all(key[0] in rules for key in EXEMPTIONS)
    assert unused_exemptions(EXEMPTIONS, offences) == []


def test_a_stale_exemption_is_found() -> None:
    exemptions = {("writes_in", "grading/admin.py", "obj.save"): "gone",
                  ("writes_in", "grading/tasks.py", "job.save"): "still there"}
    offences = {"writes_in": ["grading/tasks.py:12 writes: job.save()"]}
    assert unused_exemptions(exemptions, offences) == [("writes_in", "grading/admin.py", "obj.save")]


def test_the_rules_read_real_files() -> None:
    """The lists the checks walk exist and are not empty (a moved folder must not pass silently)."""
    for package in PURE_PACKAGES:
        folder = GRADING / package
        assert (folder / "__init__.py").is_file(), f"pure package {package} is missing"
        assert [p for p in folder.rglob("*.py") if p.name != "__init__.py"], f"pure package {package} is empty"
    packages = {p.parent.name for p in GRADING.glob("*/__init__.py")}
    assert packages == set(PURE_PACKAGES) | set(DJANGO_PACKAGES), "classify a new package in grading/"
    assert GRADING / "engine" / "text.py" in PURE and GRADING / "engine" / "grids.py" in PURE
    assert GRADING / "views" / "staff.py" in WEB_LAYER and GRADING / "admin.py" in WEB_LAYER
    assert GRADING / "forms.py" in NO_QUERIES and GRADING / "admin.py" not in NO_QUERIES
    assert GRADING / "management" / "commands" / "seed_demo.py" in EVERYTHING
    assert GRADING / "services" / "people.py" in BELOW_THE_WEB and ROOT / "backprop_site" / "settings.py" in EVERYTHING
    assert {"submissions", "questions", "memberships", "gradings"} <= RELATED_MANAGERS


def test_the_query_rule_finds_an_injected_query_in_a_real_view() -> None:
    """A real view with ``request.user.submissions.count()`` added is flagged on that line only
    (the samples above are small; this proves the rule on real code)."""
    source = (GRADING / "views" / "student.py").read_text(encoding="utf-8")
    assert queries_in(source, VIEW) == []
    lines = source.splitlines()
    injected = "\n".join([*lines, "", "", "def _injected(request):",
                          "    return request.user.submissions.count()", ""])
    assert queries_in(injected, VIEW) == [f"{VIEW}:{len(lines) + 4} calls request.user.submissions.count()"]
    written = "\n".join([*lines, "", "", "def _injected(request, grading):", "    grading.save()", ""])
    assert writes_in(written, VIEW) == [f"{VIEW}:{len(lines) + 4} writes: grading.save()"]
