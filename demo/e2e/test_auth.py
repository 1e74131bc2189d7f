"""Auth: a bearer token for the right password, 401 for everything else."""

import pytest
from conftest import PASSWORD, USER

pytestmark = pytest.mark.p1


async def test_valid_credentials_get_a_bearer_token(api):
    credentials = {"username": USER, "password": PASSWORD}
    async with api(token=None) as http, http.post("/auth/token", json=credentials) as resp:
        assert resp.status == 200
        body = await resp.json()
    assert body["token_type"] == "bearer"
    assert len(body["access_token"]) >= 16


async def test_wrong_password_is_refused_with_401(api):
    credentials = {"username": USER, "password": PASSWORD + "-wrong"}
    async with api(token=None) as http, http.post("/auth/token", json=credentials) as resp:
        assert resp.status == 401
        assert (await resp.json())["error"] == "invalid_credentials"


async def test_login_without_a_json_body_is_refused_with_400(api):
    async with api(token=None) as http, http.post("/auth/token", data=b"user=demo") as resp:
        assert resp.status == 400


async def test_protected_endpoint_without_a_token_is_401(api):
    async with api(token=None) as http, http.get("/threads") as resp:
        assert resp.status == 401
        assert resp.headers.get("WWW-Authenticate") == "Bearer"


async def test_forged_token_is_401(api):
    async with api(token="forged-token-that-was-never-issued") as http, http.get("/agents") as resp:
        assert resp.status == 401
