"""Input parsing for the annotate page. Rules about spans live in services; forms only type the input."""

from __future__ import annotations

from django import forms

from annotations.models import Label
from annotations.progress import Transition
from annotations.spans.claims import CLAIM_VERDICTS, SPEAKER_MAX_LENGTH
from articles.models import Article

NOTE_MAX_LENGTH = 2000


class SpanCreateForm(forms.Form):
    label = forms.ModelChoiceField(
        queryset=Label.objects.all(), error_messages={"invalid_choice": "Unknown label.", "required": "Pick a label."}
    )
    start = forms.IntegerField(error_messages={"invalid": "Start must be a whole number (a character offset)."})
    end = forms.IntegerField(error_messages={"invalid": "End must be a whole number (a character offset)."})
    # Kept exactly as sent: the server compares it with body[start:end], whitespace included.
    text = forms.CharField(strip=False, error_messages={"required": "The selected text is missing."})

    def clean_text(self) -> str:
        # HTML form encoding turns line breaks into CRLF; bodies hold only "\n" (a database constraint).
        return self.cleaned_data["text"].replace("\r\n", "\n")


class SpanRefForm(forms.Form):
    span = forms.IntegerField(error_messages={"invalid": "The span id must be a whole number."})


class SpanRelabelForm(SpanRefForm):
    label = forms.ModelChoiceField(
        queryset=Label.objects.all(), error_messages={"invalid_choice": "Unknown label.", "required": "Pick a label."}
    )


class SpanDetailsForm(SpanRefForm):
    note = forms.CharField(label="Note", required=False, max_length=NOTE_MAX_LENGTH, widget=forms.Textarea)
    speaker_span = forms.IntegerField(
        label="Speaker", required=False, error_messages={"invalid": "The speaker must be chosen from the list."}
    )
    speaker = forms.CharField(label="Speaker (free text)", required=False, max_length=SPEAKER_MAX_LENGTH)
    verdict = forms.ChoiceField(
        label="Verdict", required=False, choices=[("", "—"), *((v, v.capitalize()) for v in CLAIM_VERDICTS)]
    )


class ArticleStatusForm(forms.Form):
    status = forms.ChoiceField(
        choices=[(Article.Status.READY_FOR_REVIEW, "Done"), (Article.Status.IN_ANNOTATION, "In progress")],
        error_messages={"invalid_choice": "Editors can mark an article done or reopen it, nothing else."},
    )

    def transition(self) -> Transition:
        return Transition.DONE if self.cleaned_data["status"] == Article.Status.READY_FOR_REVIEW else Transition.REOPEN
