"""The app factory: landing page in three languages, health check, security headers."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from emanet.bootstrap import Runtime


@pytest.mark.parametrize(
    ("lang", "heading"),
    [
        ("en", "Your personal data, entrusted to you"),
        ("az", "Şəxsi məlumatlarınız sizə əmanətdir"),
        ("tr", "Kişisel verileriniz size emanet"),
    ],
)
def test_landing_page_speaks_each_language(client: FlaskClient, lang: str, heading: str) -> None:
    page = client.get(f"/?lang={lang}")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert heading in body and f'<html lang="{lang}">' in body
    assert f"lang={lang}" in page.headers["Set-Cookie"]


def test_browser_language_is_used_when_none_is_chosen(client: FlaskClient) -> None:
    page = client.get("/", headers={"Accept-Language": "tr-TR,tr;q=0.9,en;q=0.5"})
    assert "Kişisel verileriniz size emanet" in page.get_data(as_text=True)


def test_pages_carry_security_headers(client: FlaskClient) -> None:
    headers = client.get("/").headers
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert "unsafe-inline" not in headers["Content-Security-Policy"]
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["X-Content-Type-Options"] == "nosniff"


def test_health_check_reports_database_and_keyring(client: FlaskClient) -> None:
    answer = client.get("/healthz")
    assert answer.status_code == 200
    assert answer.get_json() == {"status": "ok", "database": "ok", "keyring": "ok"}


def test_health_check_fails_when_the_keyring_disappears(
    client: FlaskClient, runtime: Runtime
) -> None:
    runtime.settings.keyring_path.unlink()
    answer = client.get("/healthz")
    assert answer.status_code == 503
    assert answer.get_json()["keyring"] == "unavailable"
