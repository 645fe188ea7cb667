"""The Thai catalogue is complete, compiled and in step with the source.

Read with a small .po reader written here (not Django's or gettext's machinery under test): every
entry has a Thai translation that keeps the placeholders, the committed .mo gives exactly the
.po's translations, and extracting the strings from the source again (GNU gettext, as
`make messages` does) finds no string the catalogue lacks. And the Thai keeps to one term per
concept (the glossary below, read with polib).
"""

from __future__ import annotations

import gettext
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
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


# ------------------------------------------------------------------ one Thai term per concept
# Issue 21 item 7: the Thai said the same thing several ways (อาจารย์ and ผู้สอน, เครือข่าย and
# โครงข่าย, "Q1" and "ข้อ 1", Q1's title in three forms). The glossary: the concept, the English
# that names it in a msgid, the Thai every translation of such a msgid uses, and the variants no
# msgstr may use. Read with polib, a reader independent of this file's own and of gettext's.

ASSIGNMENT_WORD = re.compile(r"(?<!ทำ)(?<!ราย)(?<!ใช้)งาน(?!ตรวจ)")  # งาน alone; not ทำงาน, รายงาน, ใช้งาน, งานตรวจ


@dataclass(frozen=True)
class Term:
    concept: str
    english: re.Pattern[str]                # in a msgid (or its plural)
    thai: str                               # what each translation of such a msgid contains
    rejected: tuple[str | re.Pattern[str], ...] = ()   # what no translation contains
    ignore: str = ""                        # Thai that contains ``thai`` but means something else


GLOSSARY = (
    Term("neural network", re.compile(r"\bnetworks?\b(?! address)", re.I), "โครงข่าย", ("เครือข่าย",)),
    # a network address is not the neural network: what the log-in lock keys on, an IP address
    Term("network address", re.compile(r"\bnetwork address", re.I), "ที่อยู่ IP"),
    Term("instructor", re.compile(r"\binstructors?\b|\blecturer", re.I), "ผู้สอน", ("อาจารย์",),
         ignore="ทีมผู้สอน"),
    # instructors and TAs together (a site administrator's staff account is another thing)
    Term("course staff", re.compile(r"\bstaff\b(?! account)", re.I), "ทีมผู้สอน"),
    Term("TA", re.compile(r"\bTAs?\b|teaching assistant", re.I), "ผู้ช่วยสอน"),
    Term("attempt", re.compile(r"\battempts?\b", re.I), "ครั้งที่ส่ง",
         ("การส่งครั้ง", "คำตอบครั้ง", "คำตอบทั้งชุด", "สิทธิ์ส่ง")),
    Term("assignment", re.compile(r"\bassignments?\b", re.I), "การบ้าน", (ASSIGNMENT_WORD,)),
    Term("Q1", re.compile(r"\bQ1\b"), "Q1", ("ข้อ 1", "ข้อที่ 1")),
)


def _rejected_in(thai: str, variant: str | re.Pattern[str]) -> bool:
    if isinstance(variant, str):
        return variant in thai
    return bool(variant.search(thai.replace("การบ้าน", "")))  # การบ้าน is the chosen word


def glossary_problems(entries: list[tuple[str, list[str]]]) -> list[str]:
    """(English, its Thai translations) pairs -> each breach of GLOSSARY, worded for a translator."""
    problems = []
    for english, translations in entries:
        for thai in translations:
            for term in GLOSSARY:
                found = [v if isinstance(v, str) else v.pattern for v in term.rejected if _rejected_in(thai, v)]
                if found:
                    problems.append(f"{term.concept}: {found} in {thai!r} ({english!r})")
                wanted = thai.replace(term.ignore, "") if term.ignore else thai
                if term.english.search(english) and term.thai not in wanted:
                    problems.append(f"{term.concept}: {english!r} -> {thai!r} lacks {term.thai!r}")
    return problems


def polib_entries(domain: str) -> list[tuple[str, list[str]]]:
    import polib  # requirements-dev.txt

    catalogue = polib.pofile(str(LC / f"{domain}.po"))
    return [(f"{e.msgid} {e.msgid_plural}".strip(),
             list(e.msgstr_plural.values()) if e.msgid_plural else [e.msgstr])
            for e in catalogue if e.msgid and not e.obsolete]


@pytest.mark.parametrize(("english", "thai"), [
    ("There were 5 failed log ins from this network address.", "จากที่อยู่เครือข่ายนี้"),
    ("this network has 3 layers", "เครือข่ายนี้มี 3 ชั้น"),
    ("this network has 3 layers", "โครงข่ายนี้มี 3 ชั้น ที่อยู่เครือข่าย"),
    ("Ask your instructor.", "โปรดสอบถามอาจารย์"),
    ("Ask your instructor.", "โปรดสอบถามทีมผู้สอน"),        # the staff, not the instructor
    ("Waiting for the course staff.", "กำลังรอผู้สอน"),
    ("ask your TA", "โปรดถามผู้สอน"),
    ("Submit attempt 2", "ส่งคำตอบครั้งที่ 2"),
    ("Regrade this attempt", "ตรวจการส่งครั้งนี้ใหม่"),
    ("Back to the assignment", "กลับไปที่งาน"),
    ("Title", "ชื่องานภาษาไทย"),                              # a rejected variant, whatever the English
    ("undecided Q1", "ข้อ 1 ยังตัดสินไม่ได้"),
    ("Reference formulas (Q1)", "สูตรอ้างอิง"),
])
def test_the_glossary_flags_a_variant(english: str, thai: str) -> None:
    """Each of these breaks the glossary: a rejected variant, or the chosen term missing."""
    assert glossary_problems([(english, [thai])]) != []


@pytest.mark.parametrize(("english", "thai"), [
    ("There were 5 failed log ins from this network address.", "จากที่อยู่ IP นี้"),
    ("this network has 3 layers", "โครงข่ายนี้มี 3 ชั้น"),
    ("ask your instructor or TA", "โปรดติดต่อผู้สอนหรือผู้ช่วยสอน"),
    ("Waiting for the course staff.", "กำลังรอทีมผู้สอน"),
    ("a staff account (site administrator)", "บัญชีผู้ดูแล (ผู้ดูแลระบบ)"),
    ("Submit attempt 2", "ส่งคำตอบ (ครั้งที่ส่ง 2)"),
    ("Back to the assignment", "กลับไปที่การบ้าน"),
    ("%(n)s task queued", "งานตรวจในคิว %(n)s รายการ"),
    ("the checker process stopped", "กระบวนการตรวจหยุดทำงาน"),
    ("Full report (JSON)", "รายงานฉบับเต็ม (JSON)"),
    ("Reference formulas (Q1)", "สูตรอ้างอิง (Q1)"),
])
def test_the_glossary_passes_the_chosen_terms(english: str, thai: str) -> None:
    """The chosen terms, and words that only contain a rejected one (รายงาน, ทำงาน), pass."""
    assert glossary_problems([(english, [thai])]) == []


@pytest.mark.parametrize("domain", DOMAINS)
def test_the_catalogue_uses_one_thai_term_per_concept(domain: str) -> None:
    """Every msgstr keeps to the glossary: ผู้สอน (instructor), ทีมผู้สอน (course staff),
    ผู้ช่วยสอน (TA), โครงข่าย (network), ครั้งที่ส่ง (attempt), การบ้าน (assignment), Q1 (never ข้อ 1)."""
    entries = polib_entries(domain)
    assert len(entries) > (300 if domain == "django" else 10)
    assert glossary_problems(entries) == []


def test_q1_has_one_thai_title() -> None:
    """Q1's title reads the same wherever it is shown: the heading "Q1 · Forward and backward
    formulas" is "Q1 · " and the Thai of the question kind's own name, which the question list,
    the authoring page and the feedback page put together with "%(question)s · %(what)s"."""
    thai = {english: translations[0] for english, translations in polib_entries("django")}
    kind = thai["Forward and backward formulas"]
    assert THAI.search(kind)
    assert thai["Q1 · Forward and backward formulas"] == f"Q1 · {kind}"
    assert thai["%(question)s · %(what)s"] % {"question": "Q1", "what": kind} == f"Q1 · {kind}"
