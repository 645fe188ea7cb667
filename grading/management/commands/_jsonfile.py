"""Reading the JSON files the commands take, with one clear line for each way they can be bad."""
import json
from pathlib import Path
from typing import Any

from django.core.management.base import CommandError

from grading import engine

MAX_BYTES = 5_000_000


def read_text(path: str, what: str) -> str:
    """The UTF-8 text of ``path``, or a CommandError (exit code 2) saying what is wrong."""
    file = Path(path)
    try:
        if file.stat().st_size > MAX_BYTES:
            raise CommandError(f"{what} {path}: file is larger than {MAX_BYTES} bytes", returncode=2)
        text = file.read_text(encoding="utf-8")
    except CommandError:
        raise
    except FileNotFoundError:
        raise CommandError(f"{what} {path}: no such file", returncode=2) from None
    except IsADirectoryError:
        raise CommandError(f"{what} {path}: is a directory, not a file", returncode=2) from None
    except UnicodeDecodeError:
        raise CommandError(f"{what} {path}: not UTF-8 text", returncode=2) from None
    except OSError as exc:
        raise CommandError(f"{what} {path}: cannot read ({exc.strerror})", returncode=2) from None
    return text


def load_json(path: str, what: str) -> Any:
    """The parsed JSON of ``path``, or a CommandError (exit code 2) saying what is wrong."""
    text = read_text(path, what)
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise CommandError(f"{what} {path}: not valid JSON ({exc.msg} at line {exc.lineno}, "
                           f"column {exc.colno})", returncode=2) from None
    except RecursionError:
        raise CommandError(f"{what} {path}: JSON nested too deeply", returncode=2) from None
    except ValueError as exc:  # an integer of more digits than Python converts
        raise CommandError(f"{what} {path}: not usable JSON ({str(exc)[:80]})", returncode=2) from None


def load_spec(path: str) -> engine.Spec:
    """The validated spec in ``path``, or a CommandError (exit code 2)."""
    try:
        return engine.parse_spec(load_json(path, "spec"))
    except engine.SpecError as exc:
        raise CommandError(f"spec {path}: {exc}", returncode=2) from None
