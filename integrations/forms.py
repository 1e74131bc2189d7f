"""The webhook form: name, URL, service (or all), events."""

from __future__ import annotations

from django import forms

from integrations import events
from runs.models import Service


class WebhookForm(forms.Form):
    name = forms.CharField(max_length=100)
    url = forms.URLField(
        max_length=2000,
        label="URL",
        assume_scheme="https",
        help_text="Where Stageloop POSTs the events: a public http:// or https:// address.",
    )
    service = forms.ModelChoiceField(
        queryset=Service.objects.order_by("name"),
        required=False,
        empty_label="Every service",
    )
    events = forms.MultipleChoiceField(
        choices=[(kind, f"{kind}: {text}") for kind, text in events.KINDS.items()],
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Choose at least one event to send."},
    )
