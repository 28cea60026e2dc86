"""The queue filters' widgets are drawn in Python (annotations.queue.forms): held here to Django's own widgets."""

import pytest
from django import forms

from annotations.queue.forms import QueueFilterForm, _QuickCheckbox, _QuickSelect

CHOICES = [("", "Any"), ("a&b", 'A "quoted" <b>'), ("1", "One"), ("1", "One again"), (2, "Two")]


@pytest.mark.parametrize("value", [None, "", "a&b", "1", 2, "missing", ["1", "2"]])
@pytest.mark.parametrize("attrs", [None, {"id": "id_x"}, {"id": "id_x", "aria-invalid": "true", "required": True}])
def test_quick_select_draws_what_djangos_select_draws(value, attrs):
    ours = _QuickSelect(choices=CHOICES).render("x<y", value, attrs=attrs)
    django = forms.Select(choices=CHOICES).render("x<y", value, attrs=attrs)
    assert ours == django


@pytest.mark.parametrize("value", [None, "", True, False, "on", 'x"y'])
def test_quick_checkbox_draws_what_djangos_checkbox_draws(value):
    attrs = {"id": "id_mine", "disabled": False}
    assert _QuickCheckbox().render("mine", value, attrs=attrs) == forms.CheckboxInput().render(
        "mine", value, attrs=attrs
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    "data", [{}, {"status": "new", "mine": "on"}, {"status": "nonsense", "source": "999", "label": "person"}]
)
def test_the_filter_form_draws_as_with_djangos_widgets(data, labels):
    ours = QueueFilterForm(data)

    class Plain(QueueFilterForm):
        pass

    plain = Plain(data)
    for name in ("status", "source", "label", "mine"):
        plain.fields[name].widget = (
            forms.CheckboxInput() if name == "mine" else forms.Select(choices=plain.fields[name].choices)
        )
        assert str(ours[name]) == str(plain[name])
