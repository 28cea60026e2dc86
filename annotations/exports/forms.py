"""The export page's form: the researcher's filters, the format and its options."""

from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Exists, OuterRef

from annotations.exports import FORMATS, ExportFilters, ExportOptions
from annotations.models import Label, Span
from articles.models import Article, Source
from articles.validation import day_in_range


def validate_day_in_range(day) -> None:
    # Stored dates lie in years 1000-9998 (UTC); a bound far outside would overflow the day arithmetic.
    if not day_in_range(day):
        raise forms.ValidationError("Choose a date between 1000-01-01 and 9998-12-31.", code="date_range")


class DateInput(forms.DateInput):
    input_type = "date"


class ExportForm(forms.Form):
    format = forms.ChoiceField(choices=[(key, f.title) for key, f in FORMATS.items()], initial="csv", required=False)
    layer = forms.ChoiceField(
        choices=[
            ("", "Default: all for CSV, JSONL, Label Studio; gold if any for CoNLL, brat, W3C"),
            ("gold", "Gold (reviewers' layer)"),
            ("editors", "Editors' layers"),
            ("all", "All: gold and editors"),
        ],
        required=False,
        label="Layer",
        help_text="Every span says its layer in CSV, JSONL and Label Studio files; the file name says it otherwise.",
    )
    labels = forms.ModelMultipleChoiceField(
        Label.objects.order_by("ordering", "name"), required=False, widget=forms.CheckboxSelectMultiple
    )
    sources = forms.ModelMultipleChoiceField(Source.objects.order_by("domain"), required=False)
    annotators = forms.ModelMultipleChoiceField(get_user_model().objects.none(), required=False)
    statuses = forms.MultipleChoiceField(
        choices=Article.Status.choices, required=False, widget=forms.CheckboxSelectMultiple, label="Article status"
    )
    origins = forms.MultipleChoiceField(
        choices=Span.Origin.choices, required=False, widget=forms.CheckboxSelectMultiple, label="Span origin"
    )
    q = forms.CharField(
        required=False,
        max_length=200,
        label="Text contains",
        help_text='Words of the title or body, as the queue searches: “Corv” finds Corvane, "a phrase", -word.',
    )
    published_from = forms.DateField(
        required=False, widget=DateInput, label="Published from", validators=[validate_day_in_range]
    )
    published_to = forms.DateField(
        required=False, widget=DateInput, label="Published to (inclusive)", validators=[validate_day_in_range]
    )
    annotated_only = forms.BooleanField(
        required=False,
        label="Only articles with a matching span",
        help_text="Article CSV, doccano, Label Studio, CoNLL and brat.",
    )
    raw = forms.BooleanField(
        required=False,
        label="Raw cells",
        help_text="CSV: keep cells starting with = + - @ as they are (for programs; unsafe to open in a spreadsheet).",
    )
    bom = forms.BooleanField(required=False, label="Byte order mark", help_text="CSV: lets Excel detect UTF-8.")
    include_suggestions = forms.BooleanField(
        required=False,
        label="Include pending suggestions",
        help_text="Span CSV, doccano JSONL and Label Studio JSON (as predictions): add machine suggestions no "
        "editor has accepted yet, marked origin “pending-suggestion”.",
    )
    offsets = forms.ChoiceField(
        choices=[("codepoints", "Code points"), ("utf16", "UTF-16 code units (doccano, Label Studio before 1.6)")],
        initial="codepoints",
        required=False,
        label="Offsets",
        help_text="doccano JSONL and Label Studio JSON.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        User = get_user_model()
        # Only people who have labelled something: the list stays short however many accounts exist.
        self.fields["annotators"].queryset = User.objects.filter(
            Exists(Span.objects.filter(annotator=OuterRef("pk")))
        ).order_by(User.USERNAME_FIELD)
        self.fields["annotators"].label_from_instance = lambda user: user.get_username()
        self.fields["sources"].label_from_instance = lambda source: source.domain

    def clean_format(self) -> str:
        return self.cleaned_data["format"] or "csv"

    def clean(self):
        data = super().clean()
        start, end = data.get("published_from"), data.get("published_to")
        if start and end and start > end:
            self.add_error("published_to", "The end date is before the start date.")
        return data

    def filters(self) -> ExportFilters:
        data = self.cleaned_data
        return ExportFilters(
            labels=tuple(sorted(label.pk for label in data["labels"])),
            sources=tuple(sorted(source.pk for source in data["sources"])),
            annotators=tuple(sorted(user.pk for user in data["annotators"])),
            statuses=tuple(data["statuses"]),
            origins=tuple(data["origins"]),
            published_from=data["published_from"],
            published_to=data["published_to"],
            annotated_only=data["annotated_only"],
            layer=data["layer"],
            q=data["q"].strip(),
        )

    def options(self) -> ExportOptions:
        data = self.cleaned_data
        return ExportOptions(
            neutralise=not data["raw"],
            bom=data["bom"],
            utf16=data["offsets"] == "utf16",
            suggestions=data["include_suggestions"],
        )
