"""Geometry of the agreement page's drawings, computed here so the SVG templates only place shapes.

Colours come from classes (``heat-N``, ``metric-NAME``) in ``static/css/agreement.css``: the CSP forbids inline
styles, and SVG presentation classes keep every figure readable in the stylesheet.
"""

from __future__ import annotations

from typing import NamedTuple

from annotations.agreement.metrics import AGREEMENT_METRICS, Report

METRIC_NAMES = {
    "exact_f1": "Exact-span F1",
    "overlap_f1": "Overlap F1",
    "cohen_kappa": "Cohen's κ",
    "krippendorff_alpha": "Krippendorff's α",
}
CELL = 56  # heat map cell, in SVG units
GUTTER = 120  # room for editor names
BAR_WIDTH = 300
BAR_HEIGHT = 14
BAR_GAP = 4


def heat_class(value: float | None) -> str:
    """``heat-none`` for undefined, ``heat-neg`` below 0, else ``heat-0``…``heat-10`` by tenths of [0, 1]."""
    if value is None:
        return "heat-none"
    if value < 0:
        return "heat-neg"
    return f"heat-{min(10, int(value * 10))}"


def shown(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"


class HeatCell(NamedTuple):
    x: int
    y: int
    row: str
    column: str
    value: float | None
    text: str
    css: str
    cx: int  # centre, for the value written in the cell
    cy: int


class HeatMap(NamedTuple):
    metric: str
    editors: list[str]
    cells: list[HeatCell]
    rows: list[tuple[str, list[str]]]  # the same values as a table: editor → values per column editor
    width: int
    height: int
    labels_x: list[tuple[int, str]]  # column headings: x of the column's centre, name
    labels_y: list[tuple[int, str]]
    gutter: int = GUTTER
    cell: int = CELL


def heat_map(report: Report, metric: str) -> HeatMap:
    """Editors × editors, overall ``metric`` of each pair (symmetric; the diagonal is empty)."""
    editors = report.editors
    values: dict[tuple[str, str], float | None] = {}
    for pair in report.pairs:
        value = pair.figures[None][metric]
        values[(pair.first, pair.second)] = values[(pair.second, pair.first)] = value
    cells = []
    rows = []
    for i, row in enumerate(editors):
        texts = []
        for j, column in enumerate(editors):
            if row == column:
                texts.append("")
                continue
            if (row, column) not in values:
                texts.append("no shared articles")
                continue
            value = values[(row, column)]
            texts.append(shown(value))
            x, y = GUTTER + j * CELL, GUTTER + i * CELL
            cells.append(
                HeatCell(x, y, row, column, value, shown(value), heat_class(value), x + CELL // 2, y + CELL // 2)
            )
        rows.append((row, texts))
    size = GUTTER + CELL * len(editors)
    centres = [(GUTTER + i * CELL + CELL // 2, name) for i, name in enumerate(editors)]
    return HeatMap(metric, editors, cells, rows, size, size, centres, centres)


class Bar(NamedTuple):
    metric: str
    name: str
    value: float | None
    text: str
    y: int
    width: float  # 0 for undefined or negative values


class BarGroup(NamedTuple):
    label: str
    y: int
    bars: list[Bar]


class Bars(NamedTuple):
    groups: list[BarGroup]
    width: int
    height: int
    scale_x: int  # where value 0 is drawn
    bar_width: int
    bar_height: int = BAR_HEIGHT


def label_bars(report: Report) -> Bars:
    """Per label (then overall), one horizontal bar per metric on a 0–1 scale; the value is written beside it."""
    groups = []
    y = 0
    for name in [*report.labels, None]:
        figures = report.average[name]
        bars = []
        top = y + 18
        for k, metric in enumerate(AGREEMENT_METRICS):
            value = figures[metric]
            width = round(BAR_WIDTH * max(0.0, min(1.0, value)), 2) if value is not None else 0
            bars.append(Bar(metric, METRIC_NAMES[metric], value, shown(value), top + k * (BAR_HEIGHT + BAR_GAP), width))
        groups.append(BarGroup(name or "Overall", y + 13, bars))
        y = top + len(AGREEMENT_METRICS) * (BAR_HEIGHT + BAR_GAP) + 12
    return Bars(groups, GUTTER + BAR_WIDTH + 60, y, GUTTER, BAR_WIDTH)
