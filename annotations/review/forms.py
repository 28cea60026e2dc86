"""What the review page posts: a conflict's key, an editor's letter, a gold span's range, the reviewed mark."""

from __future__ import annotations

from django import forms

from annotations.models import Label


class ConflictForm(forms.Form):
    conflict = forms.RegexField(
        regex=r"^\d+(,\d+)*$", max_length=20_000, error_messages={"invalid": "Unknown conflict."}
    )


class AcceptForm(ConflictForm):
    editor = forms.RegexField(regex=r"^[A-Z]{1,2}$", error_messages={"invalid": "Unknown editor."})


class GoldAddForm(forms.Form):
    label = forms.ModelChoiceField(queryset=Label.objects.all())
    start = forms.IntegerField(min_value=0)
    end = forms.IntegerField(min_value=1)
    text = forms.CharField(strip=False, required=False)
    conflict = forms.RegexField(regex=r"^\d+(,\d+)*$", max_length=20_000, required=False)


class ReviewedForm(forms.Form):
    state = forms.CharField(max_length=64)
    note = forms.CharField(required=False, max_length=2000, label="Override note")
