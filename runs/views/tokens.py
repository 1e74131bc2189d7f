"""The user's API tokens: create (shown once), list, revoke; each says what it may do."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from runs.selectors.tokens import token_abilities
from runs.services.tokens import token_create, token_revoke
from runs.views.requests import PageRequest


def token_list(request: PageRequest) -> HttpResponse:
    secret = None
    if request.method == "POST":
        try:
            _token, secret = token_create(user=request.user, name=request.POST.get("name", ""))
        except ValueError as exc:
            messages.error(request, str(exc))
            return redirect("tokens")
    context = {
        "tokens": request.user.api_tokens.all(),
        "secret": secret,
        "abilities": token_abilities(user=request.user),
    }
    return render(request, "runs/tokens.html", context)


@require_POST
def token_revoke_view(request: PageRequest, pk: int) -> HttpResponse:
    if token_revoke(user=request.user, token_id=pk):
        messages.success(request, "Token revoked: requests using it now get 401.")
    else:
        messages.error(request, "No such active token of yours.")
    return redirect("tokens")
