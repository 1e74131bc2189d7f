"""A tiny, separate Django project: a real OpenID Connect provider (django-oidc-provider) that the
single sign-on tests start in a second process on loopback (tests/accounts/provider.py)."""
