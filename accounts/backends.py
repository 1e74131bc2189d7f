"""The two ways a session starts: a local password (unless switched off) and OpenID Connect."""

from __future__ import annotations

import logging

import jwt
import requests
from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import SuspiciousOperation
from mozilla_django_oidc.auth import OIDCAuthenticationBackend

from accounts.roles import groups_from_claim, user_roles_sync

logger = logging.getLogger(__name__)


class LocalPasswordBackend(ModelBackend):
    """Django's username and password, refused when STAGELOOP_LOCAL_LOGIN=0 (also in /admin/)."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if not settings.LOCAL_LOGIN_ENABLED:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


class SignInRefused(Exception):
    """The provider's answer was refused; str() is the sentence the user reads."""


def _provider() -> str:
    return settings.OIDC_PROVIDER_NAME


class OidcBackend(OIDCAuthenticationBackend):
    """mozilla-django-oidc's code flow, stricter: the ID token's signature, issuer, audience
    and expiry are all checked (the library skips the audience), each refusal says which; users
    are matched by a username claim, never by e-mail; roles follow the groups claim."""

    def authenticate(self, request, **kwargs):
        if not settings.OIDC_ENABLED:
            return None
        try:
            return super().authenticate(request, **kwargs)
        except requests.RequestException as exc:
            logger.warning("oidc: the provider did not answer as expected: %s", exc)
            raise SignInRefused(
                f"{_provider()} did not answer the sign-in as expected, so you are not signed "
                "in. Start again from the sign-in page; if this keeps happening, tell an admin "
                "(the server log says what the provider answered)."
            ) from exc

    def verify_token(self, token, **kwargs):
        try:
            return super().verify_token(token, **kwargs)
        except jwt.InvalidTokenError as exc:
            raise _refusal("it could not be read as a signed token", exc) from exc
        except SuspiciousOperation as exc:
            # No trusted key with the token's key id, or a nonce that is not this sign-in's.
            raise _refusal(str(exc).rstrip("."), exc) from exc

    def _verify_jws(self, payload, key):
        alg = jwt.get_unverified_header(payload).get("alg")
        if alg != self.OIDC_RP_SIGN_ALGO:
            raise _refusal(f"it is signed with {alg}, not the expected {self.OIDC_RP_SIGN_ALGO}")
        try:
            return jwt.decode(
                payload,
                key,
                algorithms=[alg],
                audience=self.OIDC_RP_CLIENT_ID,
                issuer=settings.OIDC_ISSUER,
                leeway=settings.OIDC_CLOCK_LEEWAY,
                options={"require": ["exp", "iat", "iss", "aud", "sub"]},
            )
        except jwt.InvalidTokenError as exc:
            logger.warning("oidc: refused an ID token: %s: %s", type(exc).__name__, exc)
            raise _token_refusal(exc) from exc

    def get_userinfo(self, access_token, id_token, payload):
        """The ID token's claims with the userinfo endpoint's over them: some providers put the
        groups in one, some in the other."""
        userinfo = super().get_userinfo(access_token, id_token, payload)
        if userinfo.get("sub") not in (None, payload["sub"]):
            raise _refusal("the userinfo answer names another user than the token")
        return {**payload, **userinfo}

    def verify_claims(self, claims):
        if not _username(claims):
            raise SignInRefused(
                f"{_provider()} did not send the {settings.OIDC_USERNAME_CLAIM!r} claim, which "
                "names your account here, so you are not signed in. Tell an admin (the claim "
                "is set by STAGELOOP_OIDC_USERNAME_CLAIM; a scope may be missing)."
            )
        return True

    def filter_users_by_claims(self, claims):
        return self.UserModel.objects.filter(username=_username(claims))

    def create_user(self, claims):
        user = self.UserModel.objects.create_user(_username(claims))  # no usable password
        logger.info("oidc: created user %s (sub %s)", user.get_username(), claims["sub"])
        return self.update_user(user, claims)

    def update_user(self, user, claims):
        if user.has_usable_password():
            # An account made for password sign-in is not taken over by a provider that happens
            # to know the same name; an admin links it by removing its password.
            raise SignInRefused(
                f"An account named {user.get_username()} already signs in with a password "
                f"here, so {_provider()} may not sign in to it. Sign in with the password, or "
                "ask an admin to link the accounts (by removing that account's password)."
            )
        if not user.is_active:
            raise SignInRefused(
                f"The account {user.get_username()} is deactivated in Stageloop. Ask an admin."
            )
        user.email = claims.get("email") or user.email
        user.first_name = (claims.get("given_name") or user.first_name)[:150]
        user.last_name = (claims.get("family_name") or user.last_name)[:150]
        user.save(update_fields=["email", "first_name", "last_name"])
        roles = user_roles_sync(
            user=user, groups=groups_from_claim(claims.get(settings.OIDC_GROUPS_CLAIM))
        )
        logger.info("oidc: %s signed in with roles %s", user.get_username(), sorted(roles))
        return user


def _token_refusal(exc: jwt.InvalidTokenError) -> SignInRefused:
    """The sentence for an ID token that did not pass, by what was wrong with it."""
    name = _provider()
    if isinstance(exc, jwt.InvalidSignatureError):
        return SignInRefused(
            f"The sign-in token from {name} has a signature that does not match the provider's "
            "keys Stageloop trusts, so it was refused: it may have been tampered with, or "
            "STAGELOOP_OIDC_JWKS_URL points at the wrong provider. Tell an admin."
        )
    if isinstance(exc, jwt.ExpiredSignatureError):
        return SignInRefused(
            f"The sign-in token from {name} had already expired, so it was refused. Start again "
            "from the sign-in page; if it happens again, the clock of this server or of the "
            "provider is wrong: tell an admin."
        )
    if isinstance(exc, jwt.InvalidAudienceError):
        return SignInRefused(
            f"The sign-in token from {name} was issued for another application (its audience is "
            "not this server's client id), so it was refused. Tell an admin: "
            "STAGELOOP_OIDC_CLIENT_ID must be the client id registered at the provider."
        )
    if isinstance(exc, jwt.InvalidIssuerError):
        return SignInRefused(
            f"The sign-in token was issued by another provider than {name} (its issuer is not "
            "STAGELOOP_OIDC_ISSUER), so it was refused. Tell an admin."
        )
    return _refusal(str(exc).rstrip("."), exc)


def _username(claims) -> str:
    return str(claims.get(settings.OIDC_USERNAME_CLAIM) or "")[:150]


def _refusal(why: str, exc: Exception | None = None) -> SignInRefused:
    logger.warning("oidc: refused a token: %s (%r)", why, exc)
    return SignInRefused(
        f"The sign-in answer from {_provider()} was refused because {why}. Start again from the "
        "sign-in page; if it happens again, tell an admin."
    )
