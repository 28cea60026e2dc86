"""The queue's filters, shared by the list, ``next`` and the annotate page (which carries them for Next and Back)."""

from __future__ import annotations

from django import forms
from django.http import HttpRequest, QueryDict

from annotations.models import Label
from articles.models import Article, Source

# With the page: "← Queue" on the annotate page goes back to the page the editor came from (issue 14).
QUEUE_PARAMS = ("q", "status", "source", "label", "mine", "page")


class QueueFilterForm(forms.Form):
    q = forms.CharField(label="Search", required=False, max_length=200)
    status = forms.ChoiceField(label="Status", required=False, choices=[("", "Any status"), *Article.Status.choices])
    source = forms.ModelChoiceField(
        label="Source", required=False, queryset=Source.objects.all(), empty_label="Any source"
    )
    label = forms.ModelChoiceField(
        label="Has my label",
        required=False,
        queryset=Label.objects.all(),
        to_field_name="slug",
        empty_label="Any label",
    )
    mine = forms.BooleanField(label="Assigned to me", required=False)

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


def queue_query(request: HttpRequest) -> str:
    """The queue's filters and page, as a query string the annotate page carries for Next and Back."""
    params = QueryDict(mutable=True)
    for name in QUEUE_PARAMS:
        values = [value for value in request.GET.getlist(name) if value]
        if values:
            params.setlist(name, values)
    return params.urlencode()
