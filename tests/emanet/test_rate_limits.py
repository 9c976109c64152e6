"""Sign-in and the token endpoint are rate-limited, with a clear answer."""

from __future__ import annotations

import pytest

from emanet.app import create_app
from emanet.bootstrap import Runtime
from tests.broker.oauth_helpers import csrf_token


def test_repeated_failed_sign_ins_are_stopped_with_a_clear_message(runtime: Runtime) -> None:
    client = create_app({"TESTING": True}, settings=runtime.settings).test_client()
    token = csrf_token(client.get("/login").get_data(as_text=True))
    codes = [
        client.post(
            "/login",
            data={"email": "x@example.org", "password": "wrong password!", "csrf_token": token},
        ).status_code
        for _ in range(11)
    ]
    assert codes[:10] == [200] * 10  # the form again, with the message beside the field
    assert codes[10] == 429
    page = client.post("/login", data={"csrf_token": token}).get_data(as_text=True)
    assert "Too many attempts" in page
    assert client.get("/login").status_code == 200  # reading the page is not limited


@pytest.mark.parametrize("path", ["/oauth/token"])
def test_the_token_endpoint_is_limited_and_answers_json(runtime: Runtime, path: str) -> None:
    client = create_app({"TESTING": True}, settings=runtime.settings).test_client()
    codes = [
        client.post(path, data={"grant_type": "client_credentials"}).status_code for _ in range(121)
    ]
    assert set(codes[:120]) == {401} and codes[120] == 429
    assert client.post(path).get_json()["error"] == "too_many_requests"
