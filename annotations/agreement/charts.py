"""Geometry of the agreement page's drawings, computed here so the SVG templates only place shapes.

Colours come from classes (``heat-N``, ``metric-NAME``) in ``static/css/agreement.css``: the CSP forbids inline
styles, and SVG presentation classes keep every figure readable in the stylesheet.
"""

from __future__ import annotations

import math
import unicodedata
from typing import NamedTuple

from annotations.agreement.metrics import AGREEMENT_METRICS, Report

METRIC_NAMES = {
    "exact_f1": "Exact-span F1",
    "overlap_f1": "Overlap F1",
    "cohen_kappa": "Cohen's κ",
    "krippendorff_alpha": "Krippendorff's α",
}
CELL = 56  # heat map cell, in SVG units
GUTTER = 120  # room for the bars' metric names ("Krippendorff's α" at 12px)
VALUE_ROOM = 46  # right of the bars, for "-0.02"
# Editor names around the heat map: 12px text (agreement.css), columns' names slanted up to the right.
FONT = 12
SLANT = 40  # degrees
LABEL_GAP = 8  # between a name and the cells
MARGIN = 4  # round the whole drawing, so no glyph touches the edge
BAR_WIDTH = 200  # with the gutter and the values, 366 units: whole, at ~10px names, on a 320 px screen
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


def text_width(text: str, size: int = FONT) -> float:
    """A generous estimate of ``text``'s drawn width in SVG units (the server cannot measure fonts): wide for
    East Asian wide characters, 0.62 em for the rest, which covers system-ui's widest Latin letters on average."""
    return sum(size if unicodedata.east_asian_width(c) in "WF" else 0.62 * size for c in text)


class HeatMap(NamedTuple):
    metric: str
    editors: list[str]
    cells: list[HeatCell]
    rows: list[tuple[str, list[str]]]  # the same values as a table: editor → values per column editor
    width: int
    height: int
    labels_x: list[tuple[int, str]]  # column headings: x of the column's centre, name
    labels_y: list[tuple[int, str]]
    left: int  # where the cells begin: room for the rows' names
    top: int  # room for the columns' slanted names
    cell: int = CELL
    slant: int = SLANT

    @property
    def label_x_y(self) -> int:
        """The baseline point of the columns' names, just above the cells."""
        return self.top - LABEL_GAP

    @property
    def label_y_x(self) -> int:
        """Where the rows' names end, just left of the cells."""
        return self.left - LABEL_GAP


def heat_geometry(editors: list[str]) -> tuple[int, int, int, int]:
    """``(left, top, width, height)`` of a heat map of ``editors``, from their names' lengths: the rows' names fit
    left of the cells, the columns' names (slanted by ``SLANT`` from their column's centre) fit above them and, for
    the last columns, to the right, with no empty band beyond the longest name."""
    widths = [text_width(name) for name in editors]
    angle = math.radians(SLANT)
    # A slanted name reaches up by its length's sine plus the glyphs' height standing on the slant.
    rise = max((w * math.sin(angle) + FONT * math.cos(angle) for w in widths), default=0)
    left = MARGIN + math.ceil(max(widths, default=0)) + LABEL_GAP
    top = MARGIN + math.ceil(rise) + LABEL_GAP
    grid = left + CELL * len(editors)
    reach = max(
        (left + j * CELL + CELL // 2 + w * math.cos(angle) + FONT * math.sin(angle) for j, w in enumerate(widths)),
        default=0,
    )
    width = max(grid, math.ceil(reach)) + MARGIN
    height = top + CELL * len(editors) + MARGIN
    return left, top, width, height


def heat_map(report: Report, metric: str) -> HeatMap:
    """Editors × editors, overall ``metric`` of each pair (symmetric; the diagonal is empty)."""
    editors = report.editors
    left, top, width, height = heat_geometry(editors)
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
            x, y = left + j * CELL, top + i * CELL
            cells.append(
                HeatCell(x, y, row, column, value, shown(value), heat_class(value), x + CELL // 2, y + CELL // 2)
            )
        rows.append((row, texts))
    columns = [(left + i * CELL + CELL // 2, name) for i, name in enumerate(editors)]
    rows_y = [(top + i * CELL + CELL // 2, name) for i, name in enumerate(editors)]
    return HeatMap(metric, editors, cells, rows, width, height, columns, rows_y, left, top)


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
    return Bars(groups, GUTTER + BAR_WIDTH + VALUE_ROOM, y, GUTTER, BAR_WIDTH)
