"""Messages the pure modules write, kept so that they can be read again in the reader's language.

Pure (no Django). Marking, named mistakes, the formula checker and the engine's errors are
written while grading, often in a background task, long before anyone reads them, and a Thai
student and an English-speaking TA read the same stored report. So a message is kept as its
English template and parameters: ``_("not within %(band)s of the expected value", band=...)``.

A ``Text`` *is* the English string (``str`` subclass: comparisons, JSON, logs and old code see
English), and ``str(text)`` renders it again with the translator the Django app installs at
start-up (``use``), which is how Django's lazy strings behave in templates. Parameters that are
``Text`` themselves are rendered in the same language; numbers and names stay as typed.
``to_data``/``from_data`` store the structure beside the English in a report.

``_`` and ``ngettext`` are the names ``makemessages`` (xgettext) finds, so the templates land in
the catalogue with the Django side's strings.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

Gettext = Callable[[str], str]
Ngettext = Callable[[str, str, int], str]


def _same(message: str) -> str:
    return message


def _same_plural(singular: str, plural: str, n: int) -> str:
    return singular if n == 1 else plural


_translator: tuple[Gettext, Ngettext] = (_same, _same_plural)


def use(gettext: Gettext, ngettext: Ngettext) -> None:
    """Install the translator ``str(text)`` renders with (the Django app does, at start-up)."""
    global _translator
    _translator = (gettext, ngettext)


class Text(str):
    """A message: its English string, and what it is made of to render it in another language.

    Exactly one form: a template (``template`` with ``params``, and ``plural``/``n`` for a
    count) or a join (``parts`` put together with the literal ``sep``).
    """

    __slots__ = ("template", "params", "plural", "n", "parts", "sep")

    template: str
    params: Mapping[str, Any]
    plural: str
    n: int | None
    parts: tuple[Any, ...]
    sep: str

    def __new__(cls, template: str = "", params: Mapping[str, Any] | None = None, *,
                plural: str = "", n: int | None = None, parts: Iterable[Any] = (), sep: str = "") -> Text:
        parts = tuple(parts)
        params = dict(params or {})
        english = _render(template, params, plural, n, parts, sep, (_same, _same_plural))
        self = super().__new__(cls, english)
        self.template, self.params, self.plural, self.n = template, params, plural, n
        self.parts, self.sep = parts, sep
        return self

    def english(self) -> str:
        """The message in English, whatever language is active."""
        return str.__str__(self)

    def __str__(self) -> str:
        return _render(self.template, self.params, self.plural, self.n, self.parts, self.sep,
                       _translator)

    def __reduce__(self) -> tuple[Any, ...]:
        # Reports cross process boundaries (the regrade pool): keep the structure.
        return (Text.from_data, (self.to_data(),))

    def to_data(self) -> dict[str, Any]:
        """The message's structure as JSON data."""
        if self.parts:
            return {"sep": self.sep, "parts": [_data(p) for p in self.parts]}
        out: dict[str, Any] = {"t": self.template}
        if self.params:
            out["p"] = {k: _data(v) for k, v in self.params.items()}
        if self.plural:
            out["pl"], out["n"] = self.plural, self.n
        return out

    @classmethod
    def from_data(cls, data: Any) -> Any:
        """A message back from ``to_data``; anything else (a number, a name) as it is."""
        if not isinstance(data, Mapping):
            return data
        if "parts" in data:
            return cls(parts=[cls.from_data(p) for p in data["parts"]], sep=str(data.get("sep", "")))
        return cls(str(data.get("t", "")), {k: cls.from_data(v) for k, v in (data.get("p") or {}).items()},
                   plural=str(data.get("pl", "")), n=data.get("n"))


def _data(value: Any) -> Any:
    if isinstance(value, Text):
        return value.to_data()
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    return str(value)


def _render(template: str, params: Mapping[str, Any], plural: str, n: int | None,
            parts: tuple[Any, ...], sep: str, translator: tuple[Gettext, Ngettext]) -> str:
    gettext, ngettext = translator
    if parts:
        return sep.join(_one(p, translator) for p in parts)
    if plural and n is not None:
        pattern = ngettext(template, plural, n)
    else:
        pattern = gettext(template) if template else ""
    if not params:
        return pattern
    values = {k: _one(v, translator) for k, v in params.items()}
    try:
        return pattern % values
    except (KeyError, ValueError, TypeError):
        # A translation with a broken placeholder must not break a page: English instead.
        return template % values


def _one(value: Any, translator: tuple[Gettext, Ngettext]) -> Any:
    if isinstance(value, Text):
        return _render(value.template, value.params, value.plural, value.n, value.parts, value.sep,
                       translator)
    return value


def _(template: str, **params: Any) -> Text:
    """Mark ``template`` for translation; render it with ``params`` (``%(name)s`` placeholders)."""
    return Text(template, params)


def ngettext(singular: str, plural: str, n: int, **params: Any) -> Text:
    """A message whose wording depends on the count ``n`` (``%(n)s`` is available to both)."""
    return Text(singular, {"n": n, **params}, plural=plural, n=n)


def join(sep: str, parts: Iterable[Any]) -> Text:
    """Messages put together with the literal ``sep`` (``"; "``), each rendered on its own."""
    return Text(parts=[p for p in parts], sep=sep)


__all__ = ["Text", "_", "join", "ngettext", "use"]
