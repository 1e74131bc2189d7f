"""Single sign-on's environment: off by default; a half-done configuration stops start-up with
a message naming what is missing."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.dashboard.test_settings import ROOT, _start

_FULL = {
    "STAGELOOP_OIDC_CLIENT_ID": "stageloop",
    "STAGELOOP_OIDC_CLIENT_SECRET": "s3cret",
    "STAGELOOP_OIDC_ISSUER": "https://sso.example.com",
    "STAGELOOP_OIDC_AUTHORIZATION_URL": "https://sso.example.com/auth",
    "STAGELOOP_OIDC_TOKEN_URL": "https://sso.example.com/token",
    "STAGELOOP_OIDC_USERINFO_URL": "https://sso.example.com/userinfo",
    "STAGELOOP_OIDC_JWKS_URL": "https://sso.example.com/jwks",
}

_PRINT = (
    "from django.conf import settings as s; "
    "print(s.OIDC_ENABLED, s.LOCAL_LOGIN_ENABLED, sorted(s.OIDC_ROLE_GROUPS['Operator']))"
)


def test_it_is_off_unless_configured(tmp_path):
    started = _start(tmp_path, STAGELOOP_OIDC_CLIENT_ID="", STAGELOOP_LOCAL_LOGIN="1")
    assert started.returncode == 0, started.stderr


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        (
            {"STAGELOOP_OIDC_CLIENT_ID": "stageloop"},
            "but STAGELOOP_OIDC_CLIENT_SECRET, STAGELOOP_OIDC_ISSUER, STAGELOOP_OIDC_AUTHORIZATION",
        ),
        ({**_FULL, "STAGELOOP_OIDC_JWKS_URL": ""}, "STAGELOOP_OIDC_JWKS_URL is not set"),
        (
            {**_FULL, "STAGELOOP_OIDC_TOKEN_URL": "ftp://sso.example.com/token"},
            "STAGELOOP_OIDC_TOKEN_URL='ftp://sso.example.com/token' is not a supported URL",
        ),
        ({**_FULL, "STAGELOOP_OIDC_SIGN_ALGO": "none"}, "STAGELOOP_OIDC_SIGN_ALGO='none'"),
        ({"STAGELOOP_LOCAL_LOGIN": "0"}, "but single sign-on is not configured"),
        ({**_FULL, "STAGELOOP_LOCAL_LOGIN": "nope"}, "STAGELOOP_LOCAL_LOGIN='nope' is not a"),
    ],
)
def test_it_refuses_a_half_done_configuration(tmp_path, env, expected):
    started = _start(tmp_path, **env)
    assert started.returncode != 0
    assert expected in started.stderr


def test_it_reads_a_full_configuration(tmp_path):
    env = {
        **_FULL,
        "STAGELOOP_LOCAL_LOGIN": "0",
        "STAGELOOP_OIDC_ROLE_OPERATOR": "deployers, sre",
        "DEBUG": "1",
        "STAGELOOP_VAR_DIR": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "dashboard.settings",
        "PATH": "/usr/bin:/bin",
    }
    done = subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {_PRINT}"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "True False ['deployers', 'sre']"
