"""Test-only endpoints: set up users, clients and misbehaviour over HTTP (the tests live in
another process). This project only ever listens on loopback during a test run."""

import json

from cryptography.hazmat.primitives.asymmetric import rsa
from django.conf import settings
from django.contrib.auth.models import Group, User
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from jwt.algorithms import RSAAlgorithm
from oidc_provider.models import Client, ResponseType, RSAKey

from tests.oidc_provider_site.claims import MODE_FILE

_IMPOSTOR = rsa.generate_private_key(public_exponent=65537, key_size=2048)


@csrf_exempt
@require_POST
def user_put(request: HttpRequest) -> JsonResponse:
    """Create or update a user: {"username", "password", "email", "groups": [...]}; an update
    changes the groups (and e-mail), never the password."""
    data = json.loads(request.body)
    user, created = User.objects.get_or_create(username=data["username"])
    user.email = data.get("email", "")
    user.first_name = data.get("first_name", "")
    if created:  # a new password would end the user's session at the provider
        user.set_password(data["password"])
    user.save()
    user.groups.set([Group.objects.get_or_create(name=name)[0] for name in data["groups"]])
    return JsonResponse({"id": user.pk})


@csrf_exempt
@require_POST
def client_put(request: HttpRequest) -> JsonResponse:
    """Create or update a confidential client: {"client_id", "client_secret", "redirect_uris"}."""
    data = json.loads(request.body)
    client, _ = Client.objects.get_or_create(client_id=data["client_id"])
    client.name = data["client_id"]
    client.client_secret = data["client_secret"]
    client.client_type = "confidential"
    client.require_consent = False
    client.jwt_alg = "RS256"
    client.redirect_uris = data["redirect_uris"]
    client.save()
    client.response_types.set([ResponseType.objects.get(value="code")])
    return JsonResponse({"client_id": client.client_id})


@csrf_exempt
@require_POST
def mode_put(request: HttpRequest) -> JsonResponse:
    (settings.DATA_DIR / MODE_FILE).write_text(request.body.decode())
    return JsonResponse({})


def impostor_jwks(request: HttpRequest) -> JsonResponse:
    """A key set that names the real key's id but holds another key: tokens the provider signs
    do not verify against it."""
    jwk = json.loads(RSAAlgorithm.to_jwk(_IMPOSTOR.public_key()))
    jwk.update({"kid": RSAKey.objects.get().kid, "alg": "RS256", "use": "sig"})
    return JsonResponse({"keys": [jwk]})
