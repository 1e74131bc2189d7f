"""The real OpenID Connect provider the sign-in tests talk to: django-oidc-provider in a tiny
project of its own (tests/oidc_provider_site), started in a second process on loopback, and a
browser-like HTTP client (its own cookies) that signs in through the provider's login form."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urljoin

import httpx

REPO = Path(__file__).resolve().parents[2]
CLIENT_ID = "stageloop"
CLIENT_SECRET = "stageloop-test-client-secret"
OP_PASSWORD = "provider password 42"
PROVIDER_NAME = "Test IdP"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Provider:
    url: str
    process: subprocess.Popen
    http: httpx.Client = field(default_factory=lambda: httpx.Client(timeout=10))

    @property
    def issuer(self) -> str:
        return f"{self.url}/openid"

    @classmethod
    def start(cls, data_dir: Path) -> Provider:
        port = _free_port()
        env = {
            "PATH": os.environ.get("PATH", ""),
            "OIDC_TEST_PROVIDER_DIR": str(data_dir),
            "PYTHONPATH": str(REPO),
        }
        log = (data_dir / "provider.log").open("w")
        process = subprocess.Popen(
            [sys.executable, "-m", "tests.oidc_provider_site.serve", str(port)],
            cwd=REPO,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        provider = cls(url=f"http://127.0.0.1:{port}", process=process)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError((data_dir / "provider.log").read_text())
            try:
                provider.http.get(f"{provider.issuer}/.well-known/openid-configuration")
                return provider
            except httpx.TransportError:
                time.sleep(0.2)
        process.kill()
        raise RuntimeError("the test OpenID provider did not start within 60 s")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)
        self.http.close()

    def user_put(self, username: str, groups: list[str], email: str = "") -> None:
        body = {
            "username": username,
            "password": OP_PASSWORD,
            "email": email or f"{username}@example.com",
            "groups": groups,
        }
        self.http.post(f"{self.url}/test/users", json=body).raise_for_status()

    def client_put(self, redirect_uris: list[str]) -> None:
        body = {
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "redirect_uris": redirect_uris,
        }
        self.http.post(f"{self.url}/test/clients", json=body).raise_for_status()

    def misbehave(self, **mode) -> None:
        """aud="other" signs tokens for another audience; expired=True signs expired tokens."""
        self.http.post(f"{self.url}/test/mode", json=mode).raise_for_status()

    def settings(self) -> dict:
        """Stageloop's settings for this provider, as STAGELOOP_OIDC_* would set them."""
        return {
            "OIDC_ENABLED": True,
            "OIDC_PROVIDER_NAME": PROVIDER_NAME,
            "OIDC_RP_CLIENT_ID": CLIENT_ID,
            "OIDC_RP_CLIENT_SECRET": CLIENT_SECRET,
            "OIDC_ISSUER": self.issuer,
            "OIDC_OP_AUTHORIZATION_ENDPOINT": f"{self.issuer}/authorize",
            "OIDC_OP_TOKEN_ENDPOINT": f"{self.issuer}/token",
            "OIDC_OP_USER_ENDPOINT": f"{self.issuer}/userinfo",
            "OIDC_OP_JWKS_ENDPOINT": f"{self.issuer}/jwks",
            "OIDC_RP_SCOPES": "openid email profile groups",
            "OIDC_ROLE_GROUPS": {
                "Viewer": ["engineering"],
                "Operator": ["deployers", "sre"],
                "Manager": ["leads"],
                "admin": ["stageloop-admins"],
            },
        }


class ProviderBrowser:
    """A browser's side of the provider: its cookies, and its way through the login form."""

    def __init__(self, provider: Provider) -> None:
        self.provider = provider
        self.http = httpx.Client(timeout=10)

    def follow(self, url: str) -> str | httpx.Response:
        """Follow the provider's redirects: the URL it sends the browser back to Stageloop
        with, or the provider page it stops at."""
        while True:
            response = self.http.get(url)
            if response.is_redirect:
                url = urljoin(url, response.headers["location"])
                if not url.startswith(self.provider.url):
                    return url
                continue
            return response

    def authorize(self, url: str, username: str, password: str = OP_PASSWORD) -> str:
        """Open the authorization URL; sign in on the provider's form if it asks."""
        page = self.follow(url)
        if isinstance(page, str):
            return page
        assert "Test Identity Provider" in page.text, page.text[:500]
        next_value = re.search(r'name="next" value="([^"]*)"', page.text)
        form = {
            "csrfmiddlewaretoken": self.http.cookies["op_csrftoken"],
            "username": username,
            "password": password,
            "next": next_value.group(1).replace("&amp;", "&") if next_value else "",
        }
        response = self.http.post(str(page.url), data=form, headers={"Referer": str(page.url)})
        assert response.is_redirect, f"the provider refused the sign-in: {response.text[:300]}"
        back = self.follow(urljoin(str(page.url), response.headers["location"]))
        assert isinstance(back, str), back.text[:500]
        return back
