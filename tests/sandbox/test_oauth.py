"""OAuth as HubSpot serves it: the authorize redirect, code exchange (single use, exact redirect_uri),
30-minute access tokens that really expire on the sandbox clock, refresh, HubSpot's error bodies,
token metadata, introspection and revocation, scopes enforced for OAuth tokens."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from hubspot_pipeline.sandbox.testing import SandboxHandle

REDIRECT = "http://localhost:8000/api/integrations/hubspot/callback"
SCOPES = "oauth crm.objects.contacts.read crm.objects.contacts.write"


def _authorize(sandbox: SandboxHandle, **params: str) -> dict[str, list[str]]:
    query = {
        "client_id": sandbox.client_id,
        "redirect_uri": REDIRECT,
        "scope": SCOPES,
        "state": "s1",
        **params,
    }
    response = httpx.get(sandbox.base_url + "/oauth/authorize", params=query)
    assert response.status_code == 302
    location = response.headers["location"]
    assert location.startswith(REDIRECT)
    return parse_qs(urlsplit(location).query)


def _exchange(sandbox: SandboxHandle, version: str = "v1", **fields: str) -> httpx.Response:
    form = {
        "client_id": sandbox.client_id,
        "client_secret": sandbox.client_secret,
        "redirect_uri": REDIRECT,
        **fields,
    }
    return httpx.post(f"{sandbox.base_url}/oauth/{version}/token", data=form)


@pytest.fixture
def tokens(hubspot_sandbox: SandboxHandle) -> dict:
    code = _authorize(hubspot_sandbox)["code"][0]
    response = _exchange(hubspot_sandbox, grant_type="authorization_code", code=code)
    assert response.status_code == 200, response.text
    return response.json()


def test_authorize_redirects_with_code_and_state(hubspot_sandbox: SandboxHandle) -> None:
    params = _authorize(hubspot_sandbox)
    assert params["state"] == ["s1"] and params["code"][0].startswith("na1-")


def test_authorize_errors_redirect_with_error(hubspot_sandbox: SandboxHandle) -> None:
    assert _authorize(hubspot_sandbox, scope="")["error"] == ["invalid_scope"]
    hubspot_sandbox.admin.configure(authorize_decision="deny")
    denied = _authorize(hubspot_sandbox)
    assert denied["error"] == ["access_denied"] and denied["state"] == ["s1"]


def test_code_exchange_gives_a_30_minute_token_for_the_portal(
    tokens: dict, hubspot_sandbox: SandboxHandle
) -> None:
    assert tokens["expires_in"] == 1800 and tokens["token_type"] == "bearer"
    assert tokens["hub_id"] == hubspot_sandbox.hub_id and "oauth" in tokens["scopes"]
    response = httpx.get(
        hubspot_sandbox.base_url + "/crm/v3/objects/contacts",
        headers=hubspot_sandbox.auth_headers(tokens["access_token"]),
    )
    assert response.status_code == 200


def test_a_code_works_once(hubspot_sandbox: SandboxHandle) -> None:
    code = _authorize(hubspot_sandbox)["code"][0]
    assert _exchange(hubspot_sandbox, grant_type="authorization_code", code=code).status_code == 200
    again = _exchange(hubspot_sandbox, grant_type="authorization_code", code=code)
    assert again.status_code == 400 and again.json()["status"] == "BAD_AUTH_CODE"
    assert again.json()["error"] == "invalid_grant"


def test_access_tokens_expire_by_the_sandbox_clock_and_refresh(
    tokens: dict, hubspot_sandbox: SandboxHandle
) -> None:
    url = hubspot_sandbox.base_url + "/crm/v3/objects/contacts"
    hubspot_sandbox.admin.advance(1800 + 75)
    expired = httpx.get(url, headers=hubspot_sandbox.auth_headers(tokens["access_token"]))
    assert expired.status_code == 401
    body = expired.json()
    assert body["category"] == "EXPIRED_AUTHENTICATION"
    assert body["message"] == "The OAuth token used to make this call expired 75 second(s) ago."
    assert body["context"]["expire time"][0].endswith("Z")
    refreshed = _exchange(
        hubspot_sandbox, "v3", grant_type="refresh_token", refresh_token=tokens["refresh_token"]
    )
    assert refreshed.status_code == 200
    assert refreshed.json()["refresh_token"] == tokens["refresh_token"]
    fresh = refreshed.json()["access_token"]
    assert httpx.get(url, headers=hubspot_sandbox.auth_headers(fresh)).status_code == 200


def test_bad_refresh_and_client_errors_use_hubspots_bodies(
    tokens: dict, hubspot_sandbox: SandboxHandle
) -> None:
    bad = _exchange(hubspot_sandbox, grant_type="refresh_token", refresh_token="na1-nope")
    assert bad.status_code == 400
    assert bad.json() | {"correlationId": None, "category": None} == {
        "error": "invalid_grant",
        "error_description": "refresh token is invalid, expired or revoked",
        "status": "BAD_REFRESH_TOKEN",
        "message": "refresh token is invalid, expired or revoked",
        "correlationId": None,
        "category": None,
    }
    wrong_secret = _exchange(
        hubspot_sandbox, grant_type="refresh_token", refresh_token=tokens["refresh_token"], client_secret="x"
    )
    assert wrong_secret.json()["status"] == "BAD_CLIENT_SECRET"
    as_json = httpx.post(hubspot_sandbox.base_url + "/oauth/v1/token", json={"grant_type": "refresh_token"})
    assert as_json.status_code == 400  # the token endpoint takes form bodies only


def test_missing_garbage_and_malformed_tokens_are_401(hubspot_sandbox: SandboxHandle) -> None:
    url = hubspot_sandbox.base_url + "/crm/v3/objects/contacts"
    for headers in ({}, {"Authorization": "Bearer pat-na1-wrong"}, {"Authorization": "Basic abc"}):
        response = httpx.get(url, headers=headers)
        assert response.status_code == 401 and response.json()["category"] == "INVALID_AUTHENTICATION"
    malformed = httpx.get(url, headers={"Authorization": "Bearer CNaKxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"})
    assert malformed.json()["category"] == "EXPIRED_AUTHENTICATION"
    assert malformed.json()["context"]["expire time"] == ["1970-01-01T00:00:00Z"]
    assert "day(s) ago" in malformed.json()["message"]


def test_token_metadata_introspection_and_revocation(tokens: dict, hubspot_sandbox: SandboxHandle) -> None:
    base = hubspot_sandbox.base_url
    info = httpx.get(f"{base}/oauth/v1/access-tokens/{tokens['access_token']}").json()
    assert info["hub_id"] == hubspot_sandbox.hub_id and info["token_type"] == "access"
    assert 0 < info["expires_in"] <= 1800 and info["app_id"] == hubspot_sandbox.app_id
    introspected = httpx.post(
        f"{base}/oauth/v3/token/introspect", data={"token": tokens["access_token"]}
    ).json()
    assert introspected["active"] is True and introspected["token_use"] == "access_token"
    assert httpx.delete(f"{base}/oauth/v1/refresh-tokens/{tokens['refresh_token']}").status_code == 204
    revoked = _exchange(hubspot_sandbox, grant_type="refresh_token", refresh_token=tokens["refresh_token"])
    assert revoked.json()["status"] == "BAD_REFRESH_TOKEN"
    # Revoking the refresh token leaves its access tokens valid until they expire.
    contacts = httpx.get(
        f"{base}/crm/v3/objects/contacts", headers=hubspot_sandbox.auth_headers(tokens["access_token"])
    )
    assert contacts.status_code == 200
    httpx.post(f"{base}/oauth/v3/token/revoke", data={"token": tokens["access_token"]})
    gone = httpx.post(f"{base}/oauth/v3/token/introspect", data={"access_token": tokens["access_token"]})
    assert gone.json() == {"active": False}


def test_oauth_tokens_are_held_to_their_scopes(hubspot_sandbox: SandboxHandle) -> None:
    token = hubspot_sandbox.admin.issue_oauth_token(scopes=["oauth", "crm.objects.contacts.read"])[
        "access_token"
    ]
    headers = hubspot_sandbox.auth_headers(token)
    base = hubspot_sandbox.base_url
    assert httpx.get(f"{base}/crm/v3/objects/contacts", headers=headers).status_code == 200
    write = httpx.post(f"{base}/crm/v3/objects/contacts", headers=headers, json={"properties": {}})
    assert write.status_code == 403 and write.json()["category"] == "MISSING_SCOPES"
    companies = httpx.get(f"{base}/crm/v3/objects/companies", headers=headers)
    assert companies.status_code == 403
