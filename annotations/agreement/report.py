"""Agreement for a scope, and the same figures as CSV and as a text table (the command and the page share them)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from annotations.agreement.metrics import AGREEMENT_METRICS, GOLD_METRICS, Agreement, Report
from annotations.agreement.queries import Scope, editor_names, finished_layers, iter_article_layers
from annotations.agreement.services import article_tokens_writer, articles_without_tokens
from annotations.exports.common import csv_line, neutralise
from articles.models import Article

CSV_COLUMNS = ("scope", "editor_a", "editor_b", "label", "label_b", "metric", "value")


def scope_articles(scope: Scope):
    """Articles of ``scope`` with at least one finished editor layer: the ones agreement reads."""
    finished = finished_layers(articles=scope.articles()).values_list("article_id", flat=True)
    return Article.objects.filter(pk__in=finished)


def agreement_compute(
    scope: Scope,
    *,
    on_tokenized: Callable[[int], None] | None = None,
    on_article: Callable[[int], None] | None = None,
) -> Report:
    """Read every finished layer of ``scope`` once and measure agreement; articles read for the first time (or
    changed since) are tokenized on the way and their boundaries stored."""
    labels = scope.labels()
    agreement = Agreement(labels=[label.pk for label in labels])
    with article_tokens_writer(on_stored=on_tokenized) as store:
        for article in iter_article_layers(scope, store_tokens=store):
            agreement.add(article)
            if on_article:
                on_article(1)
    return agreement.report(
        label_names={label.pk: label.name for label in labels}, editor_names=editor_names(agreement.editors)
    )


def to_tokenize(scope: Scope) -> int:
    return articles_without_tokens(articles=scope_articles(scope)).count()


def _number(value: float | int | None) -> str | None:
    return None if value is None else repr(value)


def csv_rows(report: Report) -> Iterator[tuple]:
    """One row per figure, in ``CSV_COLUMNS``; ``label`` is a label name or ``overall``.

    - ``average``: a metric averaged over editor pairs (editor columns empty);
    - ``pair``: one pair's metric, and its shared ``articles``;
    - ``gold``: ``editor_a`` against gold (``editor_b`` is ``gold``): precision, recall, f1;
    - ``confusion``: matched ranges labelled ``label`` by one editor and ``label_b`` by the other (``count``);
    - ``articles``: how many articles have a finished layer.
    """
    yield ("articles", None, None, None, None, "articles", report.articles)
    scopes = [*report.labels, None]
    for name in scopes:
        for metric in AGREEMENT_METRICS:
            yield ("average", None, None, name or "overall", None, metric, _number(report.average[name][metric]))
    for pair in report.pairs:
        yield ("pair", pair.first, pair.second, None, None, "articles", pair.articles)
        for name in scopes:
            for metric in AGREEMENT_METRICS:
                value = _number(pair.figures[name][metric])
                yield ("pair", pair.first, pair.second, name or "overall", None, metric, value)
    for name in scopes:
        for editor, figures in report.gold[name].items():
            for metric in GOLD_METRICS:
                yield ("gold", editor, "gold", name or "overall", None, metric, _number(figures[metric]))
    for a, row in zip(report.labels, report.confusion, strict=True):
        for b, count in zip(report.labels, row, strict=True):
            yield ("confusion", None, None, a, b, "count", count)


def csv_text(report: Report, *, neutralise_cells: bool = True) -> Iterator[str]:
    """The CSV, header first, with the export's conventions (quoting, ``\\n`` records, formula-safe text cells)."""
    yield csv_line(CSV_COLUMNS)
    for row in csv_rows(report):
        cells = list(row)
        if neutralise_cells:
            cells[1:5] = [neutralise(c) if isinstance(c, str) else c for c in cells[1:5]]
        yield csv_line(cells)


def _cell(value: float | None) -> str:
    return "—" if value is None else f"{value:.3f}"


def table_text(report: Report) -> str:
    """A plain-text report for a terminal."""
    lines = [
        f"Articles with a finished layer: {report.articles}",
        f"Editors: {', '.join(report.editors) or '—'}",
        "",
        "Averaged over editor pairs (articles both finished):",
    ]
    width = max([len("overall"), *(len(name) for name in report.labels)]) + 2
    header = "label".ljust(width) + "".join(m.rjust(20) for m in AGREEMENT_METRICS)
    lines.append(header)
    for name in [*report.labels, None]:
        figures = report.average[name]
        lines.append((name or "overall").ljust(width) + "".join(_cell(figures[m]).rjust(20) for m in AGREEMENT_METRICS))
    lines += ["", "Every pair (overall):"]
    if not report.pairs:
        lines.append("  no two editors finished the same article")
    for pair in report.pairs:
        figures = pair.figures[None]
        values = "  ".join(f"{m} {_cell(figures[m])}" for m in AGREEMENT_METRICS)
        lines.append(f"  {pair.first} × {pair.second} ({pair.articles} articles): {values}")
    lines += ["", "Against gold (overall):"]
    for editor, figures in report.gold[None].items():
        values = "  ".join(f"{m} {_cell(figures[m])}" for m in GOLD_METRICS)
        lines.append(f"  {editor}: {values}")
    if report.labels:
        lines += ["", "Label confusion over matched ranges (both editors labelled the same range):"]
        lines.append("".ljust(width) + "".join(name.rjust(width) for name in report.labels))
        for name, row in zip(report.labels, report.confusion, strict=True):
            lines.append(name.ljust(width) + "".join(str(n).rjust(width) for n in row))
    return "\n".join(lines) + "\n"
