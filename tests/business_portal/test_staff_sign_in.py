"""Staff sign in to the portal with their role; wrong passwords and disabled accounts do not."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask
from flask.testing import FlaskClient

from tests.business_portal.conftest import PortalBusiness, csrf_token, sign_in_staff


def test_every_role_signs_in_and_sees_its_name(
    staff_client: Callable[..., FlaskClient], business: PortalBusiness
) -> None:
    for role in ("owner", "agent", "compliance", "viewer"):
        client = staff_client(role)
        page = client.get("/portal/login")
        assert page.status_code == 200
        with client.session_transaction() as session:
            assert session["staff_id"] == str(business.staff_id(role))


def test_wrong_password_is_refused_beside_the_field(app: Flask, business: PortalBusiness) -> None:
    client = app.test_client()
    page = client.get("/portal/login")
    answer = client.post(
        "/portal/login",
        data={
            "email": business.email("agent"),
            "password": "not the password at all",
            "csrf_token": csrf_token(page.text),
        },
    )
    assert answer.status_code == 200
    assert "The e-mail address or the password is not right." in answer.text
    assert business.email("agent") in answer.text  # the input is kept
    with client.session_transaction() as session:
        assert "staff_id" not in session


def test_sign_in_without_csrf_token_is_refused(app: Flask, business: PortalBusiness) -> None:
    client = app.test_client()
    answer = client.post(
        "/portal/login", data={"email": business.email("owner"), "password": "x" * 20}
    )
    assert answer.status_code == 400


def test_sign_out_ends_the_session(app: Flask, business: PortalBusiness) -> None:
    client = app.test_client()
    sign_in_staff(client, business.email("owner"))
    page = client.get("/portal/login")
    answer = client.post("/portal/logout", data={"csrf_token": csrf_token(page.text)})
    assert answer.status_code == 303
    with client.session_transaction() as session:
        assert "staff_id" not in session
