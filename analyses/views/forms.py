"""The forms of the analysis edit page: the analysis, its ordered whys and its action items."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.contrib.auth import get_user_model

from analyses.models import ActionItem, Analysis, validate_link


class LinesField(forms.CharField):
    """A textarea whose non-blank lines become a list of strings."""

    widget = forms.Textarea(attrs={"rows": 3})

    def prepare_value(self, value):
        if isinstance(value, list):
            return "\n".join(value)
        return value

    def to_python(self, value) -> list[str]:  # type: ignore[override]  # a CharField read as lines
        text = super().to_python(value) or ""
        return [line.strip() for line in text.splitlines() if line.strip()]


class LinksField(LinesField):
    """One link per line: http(s) URLs or paths on this site."""

    def validate(self, value: list[str]) -> None:
        super().validate(value)
        for link in value:
            validate_link(link)


class AnalysisForm(forms.ModelForm):
    root_causes = LinesField(required=False, help_text="One root cause per line.")
    contributing_factors = LinesField(required=False, help_text="One factor per line.")

    class Meta:
        model = Analysis
        fields = ["title", "status", "problem", "trigger", "root_causes", "contributing_factors"]
        widgets = {
            "problem": forms.Textarea(attrs={"rows": 8}),
            "trigger": forms.Textarea(attrs={"rows": 2}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        allowed = list(Analysis.EDITABLE_STATUSES)
        # Verified is earned from a run, never chosen; an analysis already verified may keep it.
        if self.instance.status == Analysis.Status.VERIFIED:
            allowed.append(Analysis.Status.VERIFIED)
        cast(forms.ChoiceField, self.fields["status"]).choices = [
            (value, label) for value, label in Analysis.Status.choices if value in allowed
        ]


class WhyForm(forms.Form):
    """A why; a row left entirely blank is ignored (reordering touches its ORDER field)."""

    question = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    answer = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    evidence = LinksField(
        required=False, help_text="One link per line: a run, a result, a log line, a commit."
    )

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if not data.get("question") and (data.get("answer") or data.get("evidence")):
            self.add_error("question", "Write the question this why answers.")
        return data

    @property
    def is_blank(self) -> bool:
        data = getattr(self, "cleaned_data", None) or {}
        return not (data.get("question") or data.get("answer") or data.get("evidence"))


WhyFormSet = forms.formset_factory(WhyForm, extra=1, can_order=True, can_delete=True)


ITEM_COLUMNS = {
    "what": "What",
    "owner": "Owner",
    "due_date": "Due",
    "status": "Status",
    "link": "Link (commit, build, revision)",
}


class ActionItemForm(forms.ModelForm):
    class Meta:
        model = ActionItem
        fields = ["what", "owner", "due_date", "status", "link"]
        widgets = {
            "what": forms.Textarea(attrs={"rows": 2}),
            "due_date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "link": forms.TextInput(attrs={"placeholder": "commit sha, build, revision or URL"}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # In the edit table each field sits under its column header, without a <label> of its
        # own: the header's words name it for screen readers.
        for name, label in ITEM_COLUMNS.items():
            self.fields[name].widget.attrs.setdefault("aria-label", label)
        cast(forms.ModelChoiceField, self.fields["owner"]).queryset = (
            get_user_model().objects.filter(is_active=True).order_by("username")
        )


ActionItemFormSet = forms.inlineformset_factory(
    Analysis, ActionItem, form=ActionItemForm, extra=1, can_delete=True
)


def whys_from_formset(formset) -> list[dict]:
    """The kept whys in their chosen order, as plain dicts."""
    return [
        {
            "question": form.cleaned_data["question"],
            "answer": form.cleaned_data["answer"],
            "evidence": form.cleaned_data["evidence"],
        }
        for form in formset.ordered_forms
        if not form.is_blank
    ]


def items_from_formset(formset) -> list[dict]:
    """Every action-item row as a dict: ``id`` (None when new), ``delete`` and its fields."""
    rows = []
    for form in formset.forms:
        if not form.has_changed() and form.instance.pk is None:
            continue
        data = form.cleaned_data
        rows.append(
            {
                "id": form.instance.pk,
                "delete": bool(data.get("DELETE")),
                "what": data.get("what", ""),
                "owner": data.get("owner"),
                "due_date": data.get("due_date"),
                "status": data.get("status") or ActionItem.Status.OPEN,
                "link": data.get("link", ""),
            }
        )
    return rows
