"""Signing in: local passwords (switchable), OpenID Connect single sign-on, break-glass links."""
