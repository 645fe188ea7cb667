"""Plots: SVG from a matplotlib Figure, cached, and never through pyplot."""
import subprocess
import sys
from pathlib import Path

from grading.figures import plots

ROOT = Path(__file__).resolve().parent.parent


def test_loss_plot_is_svg_and_cached():
    """A repeated request for the same plot returns the cached drawing, not a new one."""
    plots.loss_plot.cache_clear()
    first = plots.loss_plot((0.33, 0.28, 0.30, 0.27), (0.33, None, 0.31, 0.27))
    assert first.lstrip().startswith(b"<?xml") and b"<svg" in first
    second = plots.loss_plot((0.33, 0.28, 0.30, 0.27), (0.33, None, 0.31, 0.27))
    assert second is first
    info = plots.loss_plot.cache_info()
    assert (info.hits, info.misses) == (1, 1)


def test_plots_do_not_import_pyplot():
    """Drawing every plot in a fresh interpreter never loads pyplot (its global state leaks)."""
    code = ("import sys; from grading.figures import plots;"
            "plots.loss_plot((0.3, 0.2)); plots.histogram((1.0,), 2.0);"
            "plots.wrong_share_heatmap(('r1',), ('s1',), ((0.5,),));"
            "plots.bar_chart(('m',), (1,), 't', 'x');"
            "print('matplotlib.pyplot' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


def test_analytics_plots_render():
    """Heatmap, bar chart and histogram each produce SVG, also for empty data."""
    heat = plots.wrong_share_heatmap(("round 1",), ("s1", "s2"), ((0.5, 0.0),))
    bars = plots.bar_chart(("sign flipped",), (3,), "Named mistakes", "students")
    hist = plots.histogram((10.0, 70.0, 100.0), 100.0)
    empty = plots.histogram((), 100.0)
    for svg in (heat, bars, hist, empty):
        assert b"<svg" in svg


def test_heatmap_draws_given_cells_hatched_and_blank_apart():
    """Given cells are hatched grey with a legend (not drawn like a 0 % cell); blank is a second panel."""
    with_given = plots.wrong_share_heatmap(("round 1",), ("old w11", "s1"), ((float("nan"), 0.0),),
                                           ((float("nan"), 0.5),), ((True, False),))
    without = plots.wrong_share_heatmap(("round 1",), ("old w11", "s1"), ((float("nan"), 0.0),))
    assert b"given (nothing to type)" in with_given and b"<pattern" in with_given
    assert b"Share of students who left the cell blank" in with_given
    assert b"<pattern" not in without and b"left the cell blank" not in without
