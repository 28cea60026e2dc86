from django import forms

from annotations.agreement.charts import METRIC_NAMES
from annotations.agreement.queries import Scope
from annotations.models import Label
from articles.models import Source


class AgreementForm(forms.Form):
    """The page's filters (a plain GET form): one label or all, one source or all, the heat map's metric."""

    label = forms.ModelChoiceField(
        queryset=Label.objects.order_by("ordering", "name"), to_field_name="slug", required=False, empty_label="All"
    )
    source = forms.ModelChoiceField(
        queryset=Source.objects.order_by("name"), to_field_name="domain", required=False, empty_label="All"
    )
    metric = forms.ChoiceField(
        choices=list(METRIC_NAMES.items()), required=False, initial="cohen_kappa", label="Heat map shows"
    )

    def scope(self) -> Scope:
        return Scope(label=self.cleaned_data.get("label"), source=self.cleaned_data.get("source"))

    def metric_value(self) -> str:
        return self.cleaned_data.get("metric") or "cohen_kappa"
