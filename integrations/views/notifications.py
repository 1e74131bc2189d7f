"""The notifications pages: channels and team rules (Managers: manage_integrations), and each
person's own subscriptions (every signed-in user)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from integrations.forms import (
    ChannelEditForm,
    ChannelForm,
    RuleEditForm,
    RuleForm,
    SubscriptionEditForm,
    SubscriptionForm,
)
from integrations.models import Channel, NotificationRule
from integrations.selectors.notifications import (
    channels_listed,
    deliveries_page,
    subscriptions_of,
    team_rules,
)
from integrations.selectors.paging import LogPage
from integrations.services.notifications import (
    NotificationInvalid,
    channel_create,
    channel_delete,
    channel_test_send,
    channel_update,
    rule_create,
    rule_delete,
    rule_update,
)
from runs.views.paging import query_without

MANAGE = "integrations.manage_integrations"


def _log(request: HttpRequest, page: LogPage) -> dict[str, object]:
    """The message log's context: its rows and what its pager links keep of the query."""
    return {
        "deliveries": page.rows,
        "log": page,
        "log_query": query_without(request, "after"),
        "log_anchor": "notification-log",
        "log_label": "Message log",
    }


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
        **_log(request, deliveries_page(after=request.GET.get("after", ""))),
        "channel_form": channel_form,
        "rule_form": rule_form,
    }
    return render(request, "integrations/notification_list.html", context)


def _field(form, exc: NotificationInvalid) -> str | None:
    return exc.field if exc.field in form.fields else None


@permission_required(MANAGE, raise_exception=True)
def channel_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Change a channel; its URL is never shown (blank keeps it), only its masked form."""
    channel = get_object_or_404(Channel, pk=pk)
    initial = {"name": channel.name, "emails": channel.emails, "active": channel.active}
    form = ChannelEditForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            channel_update(
                channel=channel,
                name=data["name"],
                url=data["url"],
                emails=data["emails"],
                active=data["active"],
            )
        except NotificationInvalid as exc:
            form.add_error(_field(form, exc), str(exc))
        else:
            messages.success(request, f"Channel {channel.name} saved.")
            return redirect("notification-list")
    return render(request, "integrations/channel_edit.html", {"channel": channel, "form": form})


@permission_required(MANAGE, raise_exception=True)
def rule_edit(request: HttpRequest, pk: int) -> HttpResponse:
    rule = get_object_or_404(
        NotificationRule.objects.select_related("channel"), pk=pk, subscriber__isnull=True
    )
    initial = {
        "events": rule.events,
        "channel": rule.channel,
        "service": rule.service_id,
        "owner_user": rule.owner_user_id,
        "owner_team": rule.owner_team_id,
        "min_severity": rule.min_severity,
        "digest": rule.digest,
        "active": rule.active,
    }
    form = RuleEditForm(request.POST or None, initial=initial, prefix="rule", rule=rule)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            rule_update(
                rule=rule,
                kinds=data["events"],
                channel=data["channel"],
                service=data["service"],
                owner_user=data["owner_user"],
                owner_team=data["owner_team"],
                min_severity=data["min_severity"],
                digest=data["digest"] or "",
                active=data["active"],
            )
        except NotificationInvalid as exc:
            form.add_error(_field(form, exc), str(exc))
        else:
            messages.success(request, "Rule saved.")
            return redirect("notification-list")
    return render(request, "integrations/rule_edit.html", {"rule": rule, "form": form})


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
        **_log(
            request,
            deliveries_page(after=request.GET.get("after", ""), user=request.user, per_page=20),
        ),
    }
    return render(request, "integrations/notification_mine.html", context)


@login_required
def subscription_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Change one of one's own subscriptions (another's is a 404)."""
    rule = get_object_or_404(
        NotificationRule.objects.select_related("channel"), pk=pk, subscriber=request.user
    )
    initial = {
        "events": rule.events,
        "channel": rule.channel,
        "service": rule.service_id,
        "mine_only": rule.owner_user_id == request.user.pk,
        "min_severity": rule.min_severity,
        "digest": rule.digest,
        "active": rule.active,
    }
    form = SubscriptionEditForm(request.POST or None, initial=initial, prefix="sub", rule=rule)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            rule_update(
                rule=rule,
                kinds=data["events"],
                channel=data["channel"],
                service=data["service"],
                owner_user=request.user if data["mine_only"] else None,
                min_severity=data["min_severity"],
                digest=data["digest"] or "",
                active=data["active"],
            )
        except NotificationInvalid as exc:
            form.add_error(_field(form, exc), str(exc))
        else:
            messages.success(request, "Subscription saved.")
            return redirect("notification-mine")
    return render(
        request, "integrations/rule_edit.html", {"rule": rule, "form": form, "mine": True}
    )


@require_POST
@login_required
def subscription_delete_view(request: HttpRequest, pk: int) -> HttpResponse:
    rule = get_object_or_404(NotificationRule, pk=pk, subscriber=request.user)
    rule_delete(rule=rule)
    messages.success(request, "Unsubscribed.")
    return redirect("notification-mine")
