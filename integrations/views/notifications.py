"""The notifications pages: channels and team rules (Managers: manage_integrations), and each
person's own subscriptions (every signed-in user)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from integrations.forms import ChannelForm, RuleForm, SubscriptionForm
from integrations.models import Channel, NotificationRule
from integrations.selectors.notifications import (
    channels_listed,
    deliveries_recent,
    subscriptions_of,
    team_rules,
)
from integrations.services.notifications import (
    NotificationInvalid,
    channel_create,
    channel_delete,
    channel_test_send,
    rule_create,
    rule_delete,
)

MANAGE = "integrations.manage_integrations"


@permission_required(MANAGE, raise_exception=True)
def notification_list(request: HttpRequest) -> HttpResponse:
    """Channels and team rules; a POST adds one (``form`` says which)."""
    which = request.POST.get("form") if request.method == "POST" else None
    channel_form = ChannelForm(request.POST if which == "channel" else None, prefix="channel")
    rule_form = RuleForm(request.POST if which == "rule" else None, prefix="rule")
    if which == "channel" and channel_form.is_valid():
        data = channel_form.cleaned_data
        try:
            channel = channel_create(
                name=data["name"],
                kind=data["kind"],
                url=data["url"],
                emails=data["emails"],
                user=request.user,
            )
        except NotificationInvalid as exc:
            channel_form.add_error(
                exc.field if exc.field in channel_form.fields else None, str(exc)
            )
        else:
            messages.success(request, f"Channel {channel.name} added.")
            return redirect("notification-list")
    if which == "rule" and rule_form.is_valid():
        data = rule_form.cleaned_data
        try:
            rule_create(
                kinds=data["events"],
                channel=data["channel"],
                service=data["service"],
                owner_user=data["owner_user"],
                owner_team=data["owner_team"],
                min_severity=data["min_severity"],
                digest=data["digest"] or "",
                user=request.user,
            )
        except NotificationInvalid as exc:
            rule_form.add_error(exc.field if exc.field in rule_form.fields else None, str(exc))
        else:
            messages.success(request, "Rule added.")
            return redirect("notification-list")
    context = {
        "channels": channels_listed(),
        "rules": team_rules(),
        "deliveries": deliveries_recent(),
        "channel_form": channel_form,
        "rule_form": rule_form,
    }
    return render(request, "integrations/notification_list.html", context)


@require_POST
@permission_required(MANAGE, raise_exception=True)
def channel_delete_view(request: HttpRequest, pk: int) -> HttpResponse:
    channel = get_object_or_404(Channel, pk=pk)
    channel_delete(channel=channel)
    messages.success(request, f"Channel {channel.name} deleted, with its rules.")
    return redirect("notification-list")


@require_POST
@permission_required(MANAGE, raise_exception=True)
def channel_test_view(request: HttpRequest, pk: int) -> HttpResponse:
    channel = get_object_or_404(Channel, pk=pk)
    channel_test_send(channel=channel)
    messages.success(request, "Test message queued: it shows in the log below within seconds.")
    return redirect("notification-list")


@require_POST
@permission_required(MANAGE, raise_exception=True)
def rule_delete_view(request: HttpRequest, pk: int) -> HttpResponse:
    rule = get_object_or_404(NotificationRule, pk=pk, subscriber__isnull=True)
    rule_delete(rule=rule)
    messages.success(request, "Rule deleted.")
    return redirect("notification-list")


@login_required
def notification_mine(request: HttpRequest) -> HttpResponse:
    """A person's subscriptions: events and services they want, to a channel or their email."""
    form = SubscriptionForm(request.POST or None, prefix="sub")
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            rule_create(
                kinds=data["events"],
                channel=data["channel"],
                subscriber=request.user,
                service=data["service"],
                owner_user=request.user if data["mine_only"] else None,
                min_severity=data["min_severity"],
                digest=data["digest"] or "",
                user=request.user,
            )
        except NotificationInvalid as exc:
            form.add_error(exc.field if exc.field in form.fields else None, str(exc))
        else:
            messages.success(request, "Subscribed.")
            return redirect("notification-mine")
    context = {
        "form": form,
        "subscriptions": subscriptions_of(user=request.user),
        "deliveries": deliveries_recent(user=request.user, limit=20),
    }
    return render(request, "integrations/notification_mine.html", context)


@require_POST
@login_required
def subscription_delete_view(request: HttpRequest, pk: int) -> HttpResponse:
    rule = get_object_or_404(NotificationRule, pk=pk, subscriber=request.user)
    rule_delete(rule=rule)
    messages.success(request, "Unsubscribed.")
    return redirect("notification-mine")
