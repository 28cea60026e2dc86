"""Input parsing for the annotate page. Rules about spans live in services; forms only type the input."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from annotations.models import Label
from annotations.progress import Transition
from annotations.spans.claims import CLAIM_VERDICTS, SPEAKER_MAX_LENGTH
from annotations.spans.selectors import label_by_pk

NOTE_MAX_LENGTH = 2000


class LabelField(forms.ModelChoiceField):
    """A label by its id, as ``ModelChoiceField`` takes it, read by a statement compiled once per process
    (``spans.selectors.label_by_pk``): building and compiling the field's ``queryset.get`` took ~0.5 ms of every
    create's and relabel's CPU (bench/annotate.py). The same answers: None when empty, ``invalid_choice`` for
    anything that is not a label's id (the queryset is every label, so that is what the field offers)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(queryset=Label.objects.all(), **kwargs)

    def to_python(self, value: Any) -> Label | None:
        if value in self.empty_values:
            return None
        self.validate_no_null_characters(value)
        try:
            label = label_by_pk(int(value))  # as the ORM reads a pk: int(), whose ValueError is no such label
        except (TypeError, ValueError):
            label = None
        if label is None:
            raise ValidationError(self.error_messages["invalid_choice"], code="invalid_choice", params={"value": value})
        return label


LABEL_ERRORS = {"invalid_choice": "Unknown label.", "required": "Pick a label."}


class SpanCreateForm(forms.Form):
    # The label's id: read with the article's lock, in one statement (spans.services.span_label_in_workspace).
    label = forms.IntegerField(
        min_value=1,
        max_value=2**63 - 1,  # a bigint: a larger number is no label's id, not a database error
        error_messages={
            "required": LABEL_ERRORS["required"],
            **dict.fromkeys(("invalid", "min_value", "max_value"), LABEL_ERRORS["invalid_choice"]),
        },
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
    label = LabelField(error_messages=LABEL_ERRORS)


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
    """An editor's own progress on the article: ``done`` marks their slot done, ``reopen`` takes it back."""

    status = forms.ChoiceField(
        choices=[("done", "Done"), ("reopen", "Reopen")],
        error_messages={"invalid_choice": "Editors can mark an article done or reopen it, nothing else."},
    )

    def transition(self) -> Transition:
        return Transition.DONE if self.cleaned_data["status"] == "done" else Transition.REOPEN
