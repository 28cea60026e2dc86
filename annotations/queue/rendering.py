"""The queue page's table rows, built in Python: fifty rows of eight to twelve cells each cost a template loop
about a third of the page's CPU (a variable lookup, a filter and an escape per cell), while the rows themselves
are a few plain strings. The markup is the one ``article_list.html`` used to loop over, byte for byte."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from html import escape

from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe

from annotations.queue.selectors import LabelRow, QueueRow
from articles.models import Article

# The status cell by status value, escaped once.
_STATUS_CELLS = {
    value: f'<span class="status status-{escape(value)}">{escape(str(name))}</span>'
    for value, name in Article.Status.choices
}


def render_rows(
    rows: Sequence[QueueRow],
    *,
    labels: Sequence[LabelRow],
    href: Callable[[int, int], str],
    review_href: Callable[[int], str] | None,
    counts: bool,
) -> SafeString:
    """``<tr>`` per row: the title linking to ``href(pk, place)`` (``place``: 1-based index in ``rows``), source,
    date, status, the Review link when ``review_href`` is given, and with ``counts`` the editor's span counts."""
    label_cells = [f'<td class="num" data-label="{escape(label.name)}">' for label in labels]
    parts: list[str] = []
    for place, row in enumerate(rows, start=1):
        assigned = '<span class="assigned">assigned to you</span>' if row.assigned else ""
        if row.published_at is not None:
            published = timezone.localtime(row.published_at)
            date = f'<time datetime="{published.isoformat()}">{published.strftime("%Y-%m-%d")}</time>'
        else:
            date = "—"
        review = f' <a class="review-link" href="{escape(review_href(row.pk))}">Review</a>' if review_href else ""
        parts.append(
            "\n      <tr>\n"
            f'        <td><a href="{escape(href(row.pk, place))}">{escape(row.title)}</a>{assigned}</td>\n'
            f'        <td data-label="Source">{escape(row.source_name) if row.source_name else "—"}</td>\n'
            f'        <td data-label="Published">{date}</td>\n'
            f"        <td>{_status_cell(row.status)}{review}</td>\n"
        )
        if counts:
            parts.append(
                "        "
                + "".join(f"{cell}{count}</td>" for cell, count in zip(label_cells, row.counts, strict=True))
                + f'\n        <td class="num" data-label="Your spans">{row.span_count}</td>\n'
                f'        <td class="num" data-label="Suggestions" data-suggestions>{row.suggestion_count}</td>'
            )
        else:
            parts.append("        ")
        parts.append("\n      </tr>\n    ")
    # Every value above is escaped (``html.escape``, as the template's autoescape) or a number, date or constant.
    return mark_safe("".join(parts))  # noqa: S308


def _status_cell(status: str) -> str:
    """The status' cell content; a status unknown to the model (none: the database checks) as the template did."""
    cell = _STATUS_CELLS.get(status)
    return cell if cell is not None else f'<span class="status status-{escape(status)}">{escape(status)}</span>'
