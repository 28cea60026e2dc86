"""The workspace's suggestion actions: accept one, reject one, accept every suggestion of a label.

They answer exactly as the workspace's span actions do (``annotations.workspace.views.workspace_post``: one
transaction with the undo entry, once per Idempotency-Key; htmx gets the page's regions out of band, a plain
form post a redirect, a refusal a 4xx with its sentence).
"""

from __future__ import annotations

from django import forms

from annotations.http import HtmxHttpRequest
from annotations.models import Label
from annotations.presentation import excerpt
from annotations.suggestions import decisions
from annotations.workspace import undo
from annotations.workspace.views import BodyChange, Done, _cleaned, _undo_store, workspace_post
from articles.models import Article


class SuggestionRefForm(forms.Form):
    suggestion = forms.IntegerField(
        min_value=1,
        error_messages={"invalid": "The suggestion id must be a whole number.", "required": "Pick a suggestion."},
    )


class SuggestionLabelForm(forms.Form):
    label = forms.ModelChoiceField(
        queryset=Label.objects.all(), error_messages={"invalid_choice": "Unknown label.", "required": "Pick a label."}
    )


@workspace_post("annotations.add_span")
def suggestion_accept(request: HtmxHttpRequest, article: Article) -> Done:
    pk = _cleaned(SuggestionRefForm(request.POST))["suggestion"]
    span = decisions.suggestion_accept(suggestion_id=pk, article=article, editor=request.user)
    undo.undo_record(_undo_store(request, article), undo.SuggestionsAccepted(spans=(span.pk,)))
    # The editor's span takes the suggestion's place: a page that holds the drawing just before gets that stretch,
    # the span's item and the suggestion's taken off its list (as a create on a suggested place).
    change = BodyChange(span.pk, span.start, span.end, None, accepted=frozenset({-pk}))
    return Done(f"Accepted {span.label.name} “{excerpt(span.text)}”.", selected=span.pk, change=change)


@workspace_post("annotations.add_span")
def suggestion_reject(request: HtmxHttpRequest, article: Article) -> Done:
    pk = _cleaned(SuggestionRefForm(request.POST))["suggestion"]
    suggestion = decisions.suggestion_reject(suggestion_id=pk, article=article, editor=request.user)
    undo.undo_record(_undo_store(request, article), undo.SuggestionRejected(suggestion=suggestion.pk))
    # Its place is drawn without it: a page that holds the drawing just before gets that stretch and its item
    # taken off its list (the whole text and panel otherwise).
    shown = (-suggestion.pk, suggestion.start, suggestion.end, suggestion.label_id)
    change = BodyChange(-suggestion.pk, suggestion.start, suggestion.end, shown, decided=suggestion.label_id)
    message = f"Rejected {suggestion.label.name} “{excerpt(suggestion.text)}”; it will not come back."
    return Done(message, change=change)


@workspace_post("annotations.add_span")
def suggestions_accept_label(request: HtmxHttpRequest, article: Article) -> Done:
    label = _cleaned(SuggestionLabelForm(request.POST))["label"]
    accepted = decisions.suggestions_accept_label(article=article, label=label, editor=request.user)
    message = f"Accepted {len(accepted)} {label.name} suggestion{'s' if len(accepted) != 1 else ''}."
    if not accepted:
        return Done(message)
    spans = [span for _, span in accepted]
    undo.undo_record(_undo_store(request, article), undo.SuggestionsAccepted(spans=tuple(s.pk for s in spans)))
    # Each place's stretch, the spans' items and the suggestions' taken off their list (as one accept, for all).
    first = spans[0]
    change = BodyChange(
        first.pk,
        first.start,
        first.end,
        None,
        accepted=frozenset(-pk for pk, _ in accepted),
        also=frozenset(span.pk for span in spans[1:]),
    )
    return Done(message, change=change)
