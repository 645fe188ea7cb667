"""Plots as pure functions: data in, SVG bytes out, drawn on a matplotlib Figure (never pyplot).

Each function is cached on its arguments (all hashable tuples), so a repeated request for the
same plot does not draw again. pyplot keeps global state that leaks in a threaded web server;
a bare Figure with its own Agg/SVG canvas does not.

Words are ``grading.engine.text`` messages rendered when drawn, in the language the caller names
(``lang``, part of the cache key, so a Thai and an English figure are cached apart). Text is
written into the SVG as text, not as glyph outlines: the reader's browser draws it with its own
fonts, Thai included (matplotlib's fonts have no Thai glyphs).
"""

from __future__ import annotations

import io
import warnings
from functools import lru_cache

import matplotlib

matplotlib.use("Agg")  # no display here; set before any backend is touched
# Text stays text in the SVG (the browser draws Thai with its own fonts). Set once for the process:
# an rc_context per figure is global state, and a parallel request could save a figure meanwhile.
matplotlib.rcParams["svg.fonttype"] = "none"
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

from grading.engine.text import _  # noqa: E402

Series = tuple[float | None, ...]


def _svg(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        # Thai words are measured with a font that lacks them (the browser draws them): expected.
        warnings.filterwarnings("ignore", message=r"Glyph \d+ .* missing from font", category=UserWarning)
        fig.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    return buffer.getvalue()


@lru_cache(maxsize=512)
def loss_plot(key_loss: Series, student_loss: Series = (), title: str = "", *, lang: str = "en") -> bytes:
    """The key's L per round, and the student's L beside it where they typed one (None: skipped)."""
    fig = Figure(figsize=(5.2, 3.2))
    ax = fig.add_subplot()
    rounds = list(range(1, len(key_loss) + 1))
    shown = [(r, v) for r, v in zip(rounds, key_loss) if v is not None]
    if shown:  # the key is left out (all None) while the reveal rule hides expected values
        ax.plot([r for r, _ in shown], [v for _, v in shown], marker="o", color="#1f77b4",
                label=str(_("Key (engine)")))
    pairs = [(r, v) for r, v in zip(rounds, student_loss) if v is not None]
    if pairs:
        ax.plot([r for r, _ in pairs], [v for _, v in pairs], marker="s", linestyle="--",
                color="#d62728", label=str(_("Your L")))
    ax.set_xlabel(str(_("Round")))
    ax.set_ylabel(str(_("Loss L")))
    ax.set_xticks(rounds)
    ax.set_title(str(title or _("Loss per round")))
    ax.grid(alpha=0.3)
    if ax.get_legend_handles_labels()[0]:
        ax.legend()
    return _svg(fig)


@lru_cache(maxsize=128)
def wrong_share_heatmap(rows: tuple[str, ...], columns: tuple[str, ...],
                        shares: tuple[tuple[float, ...], ...],
                        blank: tuple[tuple[float, ...], ...] = (),
                        given: tuple[tuple[bool, ...], ...] = (), *, lang: str = "en") -> bytes:
    """Share of students wrong on each cell (rows are rounds, columns cell names) and, in a
    panel below, the share who left it blank; given cells are hatched grey in both, never drawn
    like a cell nobody got wrong."""
    import numpy as np
    from matplotlib.colors import ListedColormap
    from matplotlib.patches import Patch

    shape = (len(rows), len(columns))
    panels = [(str(_("Share of students wrong (incorrect or invalid)")), shares, "Reds", str(_("share wrong")))]
    if blank:
        panels.append((str(_("Share of students who left the cell blank")), blank, "Blues", str(_("share blank"))))
    mask = np.array(given, dtype=bool) if given else np.zeros(shape, dtype=bool)
    fig = Figure(figsize=(max(6.0, 0.42 * len(columns)), (2.2 + 0.5 * len(rows)) * len(panels)), layout="constrained")
    axes = fig.subplots(len(panels), 1, squeeze=False)[:, 0]
    for ax, (title, values, cmap, label) in zip(axes, panels):
        data = np.array(values, dtype=float) if values and columns else np.zeros(shape)
        data = np.where(mask, np.nan, data)
        image = ax.imshow(data, cmap=cmap, vmin=0, vmax=1, aspect="auto")
        if mask.any():  # given cells: grey with hatching, in both panels
            ax.imshow(np.where(mask, 1.0, np.nan), cmap=ListedColormap(["#c8c8c8"]), aspect="auto")
            for r, k in zip(*np.nonzero(mask)):
                ax.add_patch(_given_patch(k, r))
        ax.set_xticks(range(len(columns)), labels=columns, rotation=70, fontsize=7)
        ax.set_yticks(range(len(rows)), labels=rows)
        fig.colorbar(image, ax=ax, label=label)
        ax.set_title(title)
    if mask.any():
        fig.legend(handles=[Patch(facecolor="#c8c8c8", hatch="//", edgecolor="#666666",
                                  label=str(_("given (nothing to type)")))],
                   loc="outside lower left", fontsize=8, frameon=False)
    return _svg(fig)


def _given_patch(k: int, r: int) -> object:
    from matplotlib.patches import Rectangle

    return Rectangle((k - 0.5, r - 0.5), 1, 1, fill=False, hatch="//", edgecolor="#666666", linewidth=0)


@lru_cache(maxsize=128)
def bar_chart(labels: tuple[str, ...], counts: tuple[int, ...], title: str, xlabel: str, *,
              lang: str = "en") -> bytes:
    """Horizontal bars, e.g. how many students made each named mistake."""
    fig = Figure(figsize=(6, 0.5 + 0.35 * max(1, len(labels))))
    ax = fig.add_subplot()
    ax.barh(range(len(labels)), counts, color="#ff7f0e")
    ax.set_yticks(range(len(labels)), labels=[str(label) for label in labels], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel(str(xlabel))
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # counts of students
    ax.set_title(str(title))
    return _svg(fig)


@lru_cache(maxsize=128)
def histogram(values: tuple[float, ...], maximum: float, title: str = "", *, lang: str = "en") -> bytes:
    """Distribution of scores from 0 to ``maximum``."""
    fig = Figure(figsize=(5.2, 3))
    ax = fig.add_subplot()
    ax.hist(values, bins=10, range=(0, max(maximum, max(values, default=0.0), 1.0)),
            color="#2ca02c", edgecolor="white")
    ax.set_xlabel(str(_("Score")))
    ax.set_ylabel(str(_("Students")))
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_title(str(title or _("Scores")))
    return _svg(fig)
