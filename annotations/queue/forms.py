"""The queue's filters, shared by the list, ``next`` and the annotate page (which carries them for Next and Back)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from html import escape

from django import forms
from django.db.models import QuerySet
from django.http import HttpRequest, QueryDict
from django.utils.safestring import SafeString, mark_safe

from annotations.models import Label
from annotations.queue.statements import compiled_rows
from articles.models import Article, Source
from newsnotes.compiled import Compiled, compiled

# With the page: "← Queue" on the annotate page goes back to the page the editor came from (issue 14).
QUEUE_PARAMS = ("q", "status", "source", "label", "mine", "page")
# The article's place in the queue ("Article 12 of 340"), written by the queue page into each article's link and
# advanced by ``n``: the workspace shows it without counting anything.
POSITION_PARAMS = ("at", "of")
_AT = re.compile(r"[1-9][0-9]{0,8}")
_OF = re.compile(r"([1-9][0-9]{0,8})(\+?)")


class _ReadOnce(forms.models.ModelChoiceIterator):
    """Options read with one plain SELECT, compiled once per process (``newsnotes.compiled``), as ``(value,
    label)`` rows: ``ModelChoiceIterator`` streams model instances through ``QuerySet.iterator()``, a server-side
    cursor (DECLARE, FETCH, CLOSE: three round trips per list) that a list of sources or labels, drawn on every
    queue page, does not need; and building the query and the instances cost more than the list's markup."""

    def __iter__(self):
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        field: _OptionsField = self.field  # type: ignore[assignment]  # the only field using this iterator
        yield from compiled_rows(field.options(), model=self.queryset.model)


@compiled()
def _source_options() -> QuerySet:
    return Source.objects.values_list("pk", "name")  # as the field's queryset, by name; labelled as str(source)


@compiled()
def _label_options() -> QuerySet:
    return Label.objects.values_list("slug", "name")  # to_field_name slug; labelled as str(label)


def _attributes(attrs: dict) -> str:
    """``attrs`` as Django's ``attrs.html`` writes them: ``True`` bare, ``False`` and ``None`` left out."""
    return "".join(
        f" {name}" if value is True else f' {name}="{escape(str(value))}"'
        for name, value in attrs.items()
        if value is not False and value is not None
    )


class _QuickSelect(forms.Select):
    """A ``Select`` drawn in Python, byte for byte as Django's widget templates draw it: through the form renderer
    each option is a template include, and the queue page's three lists cost ~3 ms of CPU per request that way
    (``bench/queue_page.py``). Flat choices only (the filters have no option groups); the first matching option
    is selected, as in ``Select.optgroups``."""

    def render(self, name, value, attrs=None, renderer=None) -> SafeString:
        chosen = set(self.format_value(value))
        parts = [f'<select name="{escape(name)}"{_attributes(self.build_attrs(self.attrs, attrs))}>']
        for option_value, option_label in self.choices:
            option = "" if option_value is None else str(option_value)
            selected = option in chosen
            if selected:
                chosen = set()
            parts.append(
                f'\n  <option value="{escape(option)}"{" selected" if selected else ""}>{escape(str(option_label))}'
                "</option>\n"
            )
        parts.append("\n</select>")
        # Names, values and labels escaped above (``html.escape``, as the templates' autoescape).
        return mark_safe("".join(parts))  # noqa: S308


class _QuickCheckbox(forms.CheckboxInput):
    """A ``CheckboxInput`` drawn in Python, as Django's ``input.html`` draws it (see ``_QuickSelect``)."""

    def render(self, name, value, attrs=None, renderer=None) -> SafeString:
        final = self.build_attrs(self.attrs, attrs)
        if self.check_test(value):
            final["checked"] = True
        shown = "" if value in ("", True, False, None) else f' value="{escape(str(self.format_value(value)))}"'
        # Name, value and attributes escaped above.
        return mark_safe(f'<input type="checkbox" name="{escape(name)}"{shown}{_attributes(final)}>')  # noqa: S308


class _OptionsField(forms.ModelChoiceField):
    """A model choice whose options are ``options()``' rows (``_ReadOnce``), matching its queryset."""

    iterator = _ReadOnce
    widget = _QuickSelect

    def __init__(self, *, options: Callable[[], Compiled], **kwargs) -> None:
        super().__init__(**kwargs)
        self.options = options


class QueueFilterForm(forms.Form):
    q = forms.CharField(label="Search", required=False, max_length=200)
    status = forms.ChoiceField(
        label="Status", required=False, choices=[("", "Any status"), *Article.Status.choices], widget=_QuickSelect
    )
    source = _OptionsField(
        label="Source", required=False, queryset=Source.objects.all(), empty_label="Any source", options=_source_options
    )
    label = _OptionsField(
        label="Has my label",
        required=False,
        queryset=Label.objects.all(),
        to_field_name="slug",
        empty_label="Any label",
        options=_label_options,
    )
    mine = forms.BooleanField(label="Assigned to me", required=False, widget=_QuickCheckbox)

    def filters(self) -> dict:
        """The valid filters only: a stale bookmark with an unknown source still shows the rest of the queue."""
        self.is_valid()
        data = self.cleaned_data
        return {
            "q": (data.get("q") or "").strip(),
            "status": data.get("status") or "",
            "source": data.get("source"),
            "label": data.get("label"),
            "mine": bool(data.get("mine")),
        }


def queue_query(request: HttpRequest, *, position: QueuePosition | None = None) -> str:
    """The queue's filters and page, as a query string the annotate page carries for Next and Back; with
    ``position`` (the article's place in the queue) too."""
    params = QueryDict(mutable=True)
    for name in QUEUE_PARAMS:
        values = [value for value in request.GET.getlist(name) if value]
        if values:
            params.setlist(name, values)
    if position is not None:
        params["at"], params["of"] = str(position.at), position.of_param
    return params.urlencode()


@dataclass(frozen=True)
class QueuePosition:
    """Where an article stood in the editor's queue when they opened it: ``at`` of ``of`` (``more``: "of 1,000+",
    the queue page's capped total)."""

    at: int
    of: int
    more: bool = False

    @property
    def at_text(self) -> str:
        return f"{self.at:,}"

    @property
    def of_text(self) -> str:
        return f"{self.of:,}" + ("+" if self.more else "")

    @property
    def of_param(self) -> str:
        return f"{self.of}+" if self.more else str(self.of)

    def following(self) -> QueuePosition:
        """The place of the article ``n`` opens: the next one, back to 1 past the end of a queue counted exactly."""
        at = self.at + 1
        return QueuePosition(1 if at > self.of and not self.more else at, self.of, self.more)


def queue_position(request: HttpRequest) -> QueuePosition | None:
    """The ``at``/``of`` the queue page wrote into the link, if present and sensible (never a query)."""
    at, of = _AT.fullmatch(request.GET.get("at", "")), _OF.fullmatch(request.GET.get("of", ""))
    if at is None or of is None:
        return None
    position = QueuePosition(int(at.group()), int(of.group(1)), more=bool(of.group(2)))
    return position if position.at <= position.of or position.more else None
