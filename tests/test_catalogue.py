"""The Thai catalogue is complete, compiled and in step with the source.

Read with a small .po reader written here (not Django's or gettext's machinery under test): every
entry has a Thai translation that keeps the placeholders, the committed .mo gives exactly the
.po's translations, and extracting the strings from the source again (GNU gettext, as
`make messages` does) finds no string the catalogue lacks.
"""

from __future__ import annotations

import gettext
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LC = ROOT / "locale" / "th" / "LC_MESSAGES"
DOMAINS = ("django", "djangojs")
PLACEHOLDER = re.compile(r"%\((\w+)\)[sdf]|%[sd]")
THAI = re.compile(r"[\u0e00-\u0e7f]")
# Kept as they are on purpose: a field name staff see in the admin, and a format staff type.
KEPT_AS_IS = {"spec", "CSV: round,column,name,value"}


ESCAPES = {"n": "\n", "t": "\t", '"': '"', "\\": "\\"}


def _unquote(line: str) -> str:
    body = line[line.index('"') + 1: line.rindex('"')]
    return re.sub(r"\\(.)", lambda m: ESCAPES.get(m.group(1), m.group(0)), body)


def read_po(path: Path) -> list[dict]:
    """Entries of a .po file: msgid, msgid_plural, msgstr (list), fuzzy, in file order."""
    entries: list[dict] = []
    entry: dict = {}
    key = ""
    for raw in path.read_text(encoding="utf-8").splitlines() + [""]:
        line = raw.strip()
        if not line:
            if "msgid" in entry:
                entries.append(entry)
            entry, key = {}, ""
            continue
        if line.startswith("#,"):
            entry["fuzzy"] = "fuzzy" in line
        elif line.startswith("#"):
            continue
        elif line.startswith('"'):
            if key.startswith("msgstr"):
                entry["msgstr"][-1] += _unquote(line)
            else:
                entry[key] += _unquote(line)
        else:
            word = line.split(" ", 1)[0]
            if word.startswith("msgstr["):
                entry.setdefault("msgstr", []).append(_unquote(line))
            elif word == "msgstr":
                entry["msgstr"] = [_unquote(line)]
            else:
                entry[word] = _unquote(line)
            key = word
    return entries


def messages(domain: str) -> list[dict]:
    return [e for e in read_po(LC / f"{domain}.po") if e["msgid"]]  # the header's msgid is ""


@pytest.mark.parametrize("domain", DOMAINS)
def test_every_entry_has_a_thai_translation_with_its_placeholders(domain: str) -> None:
    """No empty, fuzzy or untranslated (still English) entry; placeholders kept exactly."""
    entries = messages(domain)
    assert len(entries) > (300 if domain == "django" else 10)
    problems = []
    for e in entries:
        for translated in e["msgstr"]:
            if not translated or e.get("fuzzy"):
                problems.append(f"untranslated: {e['msgid']!r}")
            elif e["msgid"] not in KEPT_AS_IS and not THAI.search(translated) and re.search(r"[a-z]{3}", PLACEHOLDER.sub("", e["msgid"])):
                problems.append(f"not Thai: {e['msgid']!r} -> {translated!r}")
            wanted = sorted(PLACEHOLDER.findall(e["msgid"]) + PLACEHOLDER.findall(e.get("msgid_plural", "")))
            got = sorted(PLACEHOLDER.findall(translated))
            if set(got) != set(wanted):
                problems.append(f"placeholders {wanted} -> {got}: {e['msgid']!r}")
    assert problems == []


@pytest.mark.parametrize("domain", DOMAINS)
def test_the_compiled_catalogue_is_the_po_file(domain: str) -> None:
    """The committed .mo gives every .po translation (a .po edited without `make messages`
    leaves a stale .mo, which would serve old Thai)."""
    with (LC / f"{domain}.mo").open("rb") as f:
        mo = gettext.GNUTranslations(f)
    stale = []
    for e in messages(domain):
        if "msgid_plural" in e:
            got = mo.ngettext(e["msgid"], e["msgid_plural"], 1)
        elif "msgctxt" in e:
            got = mo.pgettext(e["msgctxt"], e["msgid"])
        else:
            got = mo.gettext(e["msgid"])
        if got != e["msgstr"][0]:
            stale.append(e["msgid"])
    assert stale == []
    assert "nplurals=1" in mo.info().get("plural-forms", "")


def test_extracting_the_source_again_finds_nothing_missing(tmp_path: Path) -> None:
    """Every translatable string in the source (templates, views, the pure modules' messages,
    scripts) is in the catalogue: a string marked without `make messages` would show in English."""
    if not shutil.which("xgettext"):
        if os.environ.get("CI"):
            pytest.fail("GNU gettext (xgettext) is needed in CI to check the catalogue")
        pytest.skip("GNU gettext (xgettext) is not installed: apt-get install gettext")
    copy = tmp_path / "src"
    files = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    for name in files:
        if name.startswith(("tests/", "bench/", "locale/")) or not (ROOT / name).is_file():
            continue
        (copy / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, copy / name)
    (copy / "locale").mkdir()
    env = {**os.environ, "DJANGO_DEBUG": "1"}
    for domain in DOMAINS:
        subprocess.run([sys.executable, "manage.py", "makemessages", "-l", "th", "-d", domain, "--no-location",
                        "-i", "staticfiles"], cwd=copy, env=env, check=True, capture_output=True)
        found = {(e["msgid"], e.get("msgctxt")) for e in read_po(copy / "locale/th/LC_MESSAGES" / f"{domain}.po") if e["msgid"]}
        have = {(e["msgid"], e.get("msgctxt")) for e in messages(domain)}
        assert sorted(found - have) == [], f"{domain}: strings not in the catalogue (run make messages)"
