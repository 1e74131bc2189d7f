"""The webhooks pages: list and create (the secret shown once), detail with its delivery log,
edit, pause/resume, delete, send a test event, redeliver. Managers (manage_integrations) only."""

from __future__ import annotations

import json

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from integrations import events
from integrations.forms import WebhookForm
from integrations.models import Webhook, WebhookDelivery
from integrations.payloads import EXAMPLES
from integrations.selectors.webhooks import webhook_deliveries, webhooks_listed
from integrations.services.deliveries import delivery_redeliver, webhook_test_send
from integrations.services.webhooks import (
    WebhookInvalid,
    webhook_create,
    webhook_delete,
    webhook_pause,
    webhook_resume,
    webhook_secret_rotate,
    webhook_update,
)
from integrations.signing import SIGNATURE_HEADER
from runs.views.paging import query_without

MANAGE = "integrations.manage_integrations"


@permission_required(MANAGE, raise_exception=True)
def webhook_list(request: HttpRequest) -> HttpResponse:
    form = WebhookForm(request.POST or None)
    created, secret = None, None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            created, secret = webhook_create(
                name=data["name"],
                url=data["url"],
                kinds=data["events"],
                service=data["service"],
                user=request.user,
            )
        except WebhookInvalid as exc:
            form.add_error(exc.field, str(exc))
        else:
            form = WebhookForm()
    context = {"webhooks": webhooks_listed(), "form": form, "created": created, "secret": secret}
    return render(request, "integrations/webhook_list.html", context)


@permission_required(MANAGE, raise_exception=True)
def webhook_detail(request: HttpRequest, pk: int) -> HttpResponse:
    hook = get_object_or_404(Webhook.objects.select_related("service", "created_by"), pk=pk)
    initial = {"name": hook.name, "url": hook.url, "service": hook.service, "events": hook.events}
    form = WebhookForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            webhook_update(
                webhook=hook,
                name=data["name"],
                url=data["url"],
                kinds=data["events"],
                service=data["service"],
            )
        except WebhookInvalid as exc:
            form.add_error(exc.field, str(exc))
        else:
            messages.success(request, "Webhook saved.")
            return redirect("webhook-detail", pk=hook.pk)
    return _detail(request, hook, form)


def _detail(
    request: HttpRequest, hook: Webhook, form: WebhookForm | None = None, secret: str = ""
) -> HttpResponse:
    if form is None:
        initial = {
            "name": hook.name,
            "url": hook.url,
            "service": hook.service,
            "events": hook.events,
        }
        form = WebhookForm(initial=initial)
    log = webhook_deliveries(webhook=hook, after=request.GET.get("after", ""))
    context = {
        "hook": hook,
        "form": form,
        "deliveries": log.rows,
        "log": log,
        "log_query": query_without(request, "after"),
        "log_anchor": "deliveries",
        "log_label": "Delivery log",
        "secret": secret,
        "old_secret_until": hook.old_secret_expires_at if hook.old_secret_valid() else None,
    }
    return render(request, "integrations/webhook_detail.html", context)


@require_POST
@permission_required(MANAGE, raise_exception=True)
def webhook_rotate_view(request: HttpRequest, pk: int) -> HttpResponse:
    """A new secret, shown in this answer only (rendered, not redirected: never in a URL)."""
    hook = get_object_or_404(Webhook.objects.select_related("service", "created_by"), pk=pk)
    secret = webhook_secret_rotate(webhook=hook)
    return _detail(request, hook, secret=secret)


@require_POST
@permission_required(MANAGE, raise_exception=True)
def webhook_pause_view(request: HttpRequest, pk: int) -> HttpResponse:
    hook = get_object_or_404(Webhook, pk=pk)
    webhook_pause(webhook=hook, reason=f"Paused by {request.user.get_username()}.")
    messages.success(request, "Webhook paused: no new deliveries until it is resumed.")
    return redirect("webhook-detail", pk=pk)


@require_POST
@permission_required(MANAGE, raise_exception=True)
def webhook_resume_view(request: HttpRequest, pk: int) -> HttpResponse:
    hook = get_object_or_404(Webhook, pk=pk)
    webhook_resume(webhook=hook)
    messages.success(request, "Webhook resumed: waiting deliveries are sent now.")
    return redirect("webhook-detail", pk=pk)


@require_POST
@permission_required(MANAGE, raise_exception=True)
def webhook_delete_view(request: HttpRequest, pk: int) -> HttpResponse:
    hook = get_object_or_404(Webhook, pk=pk)
    webhook_delete(webhook=hook)
    messages.success(request, f"Webhook {hook.name} deleted, with its delivery log.")
    return redirect("webhook-list")


@require_POST
@permission_required(MANAGE, raise_exception=True)
def webhook_test_view(request: HttpRequest, pk: int) -> HttpResponse:
    hook = get_object_or_404(Webhook, pk=pk)
    webhook_test_send(webhook=hook)
    messages.success(request, "Test event queued: its delivery shows below within seconds.")
    return redirect("webhook-detail", pk=pk)


@require_POST
@permission_required(MANAGE, raise_exception=True)
def delivery_redeliver_view(request: HttpRequest, pk: int) -> HttpResponse:
    delivery = get_object_or_404(WebhookDelivery, pk=pk)
    delivery_redeliver(delivery=delivery)
    messages.success(request, "Redelivery queued: it shows at the top of the log.")
    return redirect("webhook-detail", pk=delivery.webhook_id)


def webhook_docs(request: HttpRequest) -> HttpResponse:
    """What each event's body holds and how to verify a signature; every signed-in user."""
    examples = [
        (kind, events.KINDS.get(kind, "A test event."), json.dumps(data, indent=2))
        for kind, data in EXAMPLES.items()
    ]
    context = {"examples": examples, "signature_header": SIGNATURE_HEADER}
    return render(request, "integrations/docs.html", context)
