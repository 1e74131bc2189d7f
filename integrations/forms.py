"""The forms of integrations: a webhook (name, URL, service, events); a notification channel, a
team rule and a person's subscription."""

from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db.models import Q

from integrations import events
from integrations.events import INFO, KINDS, SEVERITIES
from integrations.models import Channel, NotificationRule
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


class ChannelForm(forms.Form):
    name = forms.CharField(max_length=100)
    kind = forms.ChoiceField(
        choices=[("apprise", "Apprise URL"), ("email", "Email")], initial="apprise"
    )
    url = forms.CharField(
        required=False,
        label="Apprise URL",
        max_length=2000,
        widget=forms.TextInput(attrs={"size": 60, "spellcheck": "false", "autocomplete": "off"}),
        help_text=(
            "Such as slack://TokenA/TokenB/TokenC/#channel, workflow://… (Microsoft Teams), "
            "discord://WebhookID/Token, tgram://BotToken/ChatID, ntfy://host/topic or "
            "json://host/path. Tokens are masked once saved."
        ),
    )
    emails = forms.CharField(
        required=False,
        max_length=1000,
        label="Email addresses",
        help_text="Comma-separated; sent through the server's mail settings.",
    )


class _NeverShown(forms.TextInput):
    """A text box that never renders a value: a refused URL typed into it is not echoed back."""

    def format_value(self, value):
        return None


class ChannelEditForm(forms.Form):
    """A channel's edit: its kind stays; the URL box starts blank and blank keeps the stored
    URL (pages show only its masked form)."""

    name = forms.CharField(max_length=100)
    url = forms.CharField(
        required=False,
        label="New Apprise URL",
        max_length=2000,
        widget=_NeverShown(attrs={"size": 60, "spellcheck": "false", "autocomplete": "off"}),
        help_text="Leave blank to keep the current URL; a new one is checked and masked again.",
    )
    emails = forms.CharField(
        required=False,
        max_length=1000,
        label="Email addresses",
        help_text="Comma-separated; sent through the server's mail settings.",
    )
    active = forms.BooleanField(
        required=False, help_text="An inactive channel receives nothing; its rules wait."
    )


def _event_choices() -> list[tuple[str, str]]:
    return [(kind, f"{kind}: {text}") for kind, text in KINDS.items()]


class _RuleFields(forms.Form):
    events = forms.MultipleChoiceField(
        choices=_event_choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text="None ticked: every event.",
    )
    service = forms.ModelChoiceField(
        queryset=Service.objects.order_by("name"), required=False, empty_label="Every service"
    )
    min_severity = forms.ChoiceField(
        label="At least",
        choices=[(s, s.capitalize()) for s in SEVERITIES],
        initial=INFO,
    )
    digest = forms.ChoiceField(
        choices=[
            ("", "Each event at once"),
            ("hourly", "Hourly digest"),
            ("daily", "Daily digest"),
        ],
        required=False,
    )


class RuleForm(_RuleFields):
    """A team rule: a Manager routes events to a channel, optionally only one owner's."""

    channel = forms.ModelChoiceField(queryset=Channel.objects.filter(active=True), empty_label=None)
    owner_user = forms.ModelChoiceField(
        queryset=get_user_model().objects.filter(is_active=True).order_by("username"),
        required=False,
        label="Only events owned by",
        empty_label="Anyone (no owner filter)",
    )
    owner_team = forms.ModelChoiceField(
        queryset=Group.objects.order_by("name"),
        required=False,
        label="or by the team",
        empty_label="Any team",
    )


class RuleEditForm(RuleForm):
    active = forms.BooleanField(required=False, help_text="An inactive rule sends nothing.")

    def __init__(self, *args, rule: NotificationRule, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # The rule's own channel stays choosable while it is inactive.
        field = self.fields["channel"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = Channel.objects.filter(Q(active=True) | Q(pk=rule.channel_id))


class SubscriptionForm(_RuleFields):
    """A person's subscription: to a channel or to their own email."""

    channel = forms.ModelChoiceField(
        queryset=Channel.objects.filter(active=True),
        required=False,
        empty_label="My email",
        label="Send to",
    )
    mine_only = forms.BooleanField(
        required=False, label="Only about tests and analyses I (or my teams) own"
    )


class SubscriptionEditForm(SubscriptionForm):
    active = forms.BooleanField(required=False, help_text="A paused subscription sends nothing.")

    def __init__(self, *args, rule: NotificationRule, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["channel"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = Channel.objects.filter(Q(active=True) | Q(pk=rule.channel_id))
