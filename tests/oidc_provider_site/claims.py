"""The groups claim, and the switches the tests use to make the provider misbehave."""

import json
import time

from django.conf import settings
from oidc_provider.lib.claims import ScopeClaims

MODE_FILE = "mode.json"


def mode() -> dict:
    """What the tests asked for: {"aud": "...", "expired": true}; {} is a well-behaved provider."""
    path = settings.DATA_DIR / MODE_FILE
    return json.loads(path.read_text()) if path.exists() else {}


class GroupsClaims(ScopeClaims):
    info_groups = ("Groups", "The groups you belong to.")

    def scope_groups(self):
        return {"groups": sorted(self.user.groups.values_list("name", flat=True))}


def idtoken_hook(id_token, user, token, request, **kwargs):
    """Sign a token with a wrong audience or one already expired, when the tests ask."""
    wanted = mode()
    if wanted.get("aud"):
        id_token["aud"] = wanted["aud"]
    if wanted.get("expired"):
        now = int(time.time())
        id_token["iat"] = now - 7200
        id_token["exp"] = now - 3600
    return id_token


def userinfo(claims, user):
    """The standard claims a company directory fills in."""
    claims.update(
        {
            "preferred_username": user.username,
            "name": user.get_full_name(),
            "given_name": user.first_name,
            "email": user.email,
            "email_verified": True,
        }
    )
    return claims
