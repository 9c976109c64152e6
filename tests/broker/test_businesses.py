"""Registering businesses, OAuth clients and staff, and authenticating a client."""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from argon2 import PasswordHasher
from pydantic import ValidationError
from sqlalchemy import select, update

from broker.businesses.models import Business, OAuthClient, StaffUser
from broker.businesses.services import (
    BusinessNotFoundError,
    StaffEmailTakenError,
    add_staff,
    authenticate_client,
    business_snapshot,
    create_business,
    hash_client_secret,
)
from schemas.businesses import BusinessIn, ClientIn, StaffIn, StaffRole
from tests.backends import PostgresBackend, SqliteBackend
from tests.factories import REDIRECT_URI, make_business
from vault.access_log.models import AccessEvent
from vault.accounts.passwords import PasswordPolicyError
from vault.unit_of_work import Vault

STAFF_PASSWORD = "correct horse battery staple"
BUSINESS = {
    "legal_name": "Köhnə Şəhər Antikvarları",
    "country": "AZ",
    "privacy_email": "privacy@antiques.example",
    "privacy_address": "İçərişəhər, Qüllə küçəsi 5, Bakı",
    "policy_url": "https://antiques.example/privacy",
}


def staff(email: str, role: StaffRole = StaffRole.AGENT) -> StaffIn:
    return StaffIn(email=email, display_name="Leyla Həsənova", role=role)


def log(vault: Vault, business_id: uuid.UUID) -> list[tuple[str, str, str | None]]:
    with vault.unit_of_work(write=False) as uow:
        rows = uow.session.execute(
            select(AccessEvent.kind, AccessEvent.actor, AccessEvent.detail)
            .where(AccessEvent.business_id == business_id)
            .order_by(AccessEvent.seq)
        ).all()
    return [(kind, actor, detail) for kind, actor, detail in rows]


# --- clients and their secrets -----------------------------------------------------------------


def test_a_client_secret_is_stored_only_as_a_keyed_hash(
    vault: Vault, backend: SqliteBackend | PostgresBackend, database_url: str
) -> None:
    business_id, issued = make_business(vault)
    secret = issued.client_secret
    assert len(secret) >= 40  # 32 random bytes, URL-safe base64
    with vault.unit_of_work(write=False) as uow:
        row = uow.session.get(OAuthClient, issued.client_id)
        assert row is not None
        assert row.business_id == business_id
        assert row.redirect_uris == [REDIRECT_URI]
        stored = bytes(row.secret_hash)
        assert stored == hash_client_secret(uow, secret)
        assert stored == uow.provider.blind_index("oauth-client-secret", secret.encode())
        values = uow.session.execute(select(*OAuthClient.__table__.columns)).one()
    # Not the secret, nor an unkeyed hash anyone could check guesses against.
    assert stored not in (
        secret.encode(),
        hashlib.sha256(secret.encode()).digest(),
        hashlib.sha256(secret.encode()).digest()[:32],
    )
    for value in values:
        text = value.hex() if isinstance(value, bytes | memoryview) else str(value)
        assert secret not in text and secret.encode().hex() not in text
    raw = backend.raw_bytes(database_url)
    assert secret.encode() not in raw and secret.encode().hex().encode() not in raw


def test_authenticate_client_accepts_the_right_secret(vault: Vault) -> None:
    business_id, issued = make_business(vault)
    with vault.unit_of_work(write=False) as uow:
        client = authenticate_client(uow, issued.client_id, issued.client_secret)
    assert client is not None
    assert (client.client_id, client.business_id) == (issued.client_id, business_id)


def test_authenticate_client_refuses_a_wrong_secret_an_unknown_client_and_a_revoked_one(
    vault: Vault,
) -> None:
    _, issued = make_business(vault)
    _, other = make_business(vault, name="Quba Xalçaları")
    with vault.unit_of_work(write=False) as uow:
        assert authenticate_client(uow, issued.client_id, issued.client_secret + "x") is None
        assert authenticate_client(uow, issued.client_id, "") is None
        assert authenticate_client(uow, issued.client_id, other.client_secret) is None
        assert authenticate_client(uow, "emc_unknown", issued.client_secret) is None
        assert authenticate_client(uow, other.client_id, other.client_secret) is not None
    with vault.unit_of_work() as uow:
        uow.session.execute(
            update(OAuthClient)
            .where(OAuthClient.client_id == issued.client_id)
            .values(revoked_at=datetime.now(UTC))
        )
        uow.commit()
    with vault.unit_of_work(write=False) as uow:
        assert authenticate_client(uow, issued.client_id, issued.client_secret) is None


def test_each_client_gets_its_own_id_and_secret(vault: Vault) -> None:
    issued = [make_business(vault, name=f"Dükan {n}")[1] for n in range(4)]
    assert len({i.client_id for i in issued}) == 4
    assert len({i.client_secret for i in issued}) == 4
    assert all(i.client_id.startswith("emc_") for i in issued)


# --- staff -------------------------------------------------------------------------------------


def test_add_staff_stores_an_argon2id_hash_and_never_the_password(vault: Vault) -> None:
    business_id = make_business(vault)[0]
    with vault.unit_of_work() as uow:
        staff_id = add_staff(
            uow, business_id, staff("Leyla@Antiques.example", StaffRole.COMPLIANCE), STAFF_PASSWORD
        )
    with vault.unit_of_work(write=False) as uow:
        user = uow.session.get(StaffUser, staff_id)
        assert user is not None
        assert (user.business_id, user.role) == (business_id, "compliance")
        assert user.email == "leyla@antiques.example"
        password_hash = user.password_hash
    assert password_hash.startswith("$argon2id$")
    assert STAFF_PASSWORD not in password_hash
    assert PasswordHasher().verify(password_hash, STAFF_PASSWORD)


@pytest.mark.parametrize(
    "again",
    ["leyla@antiques.example", "LEYLA@ANTIQUES.EXAMPLE", " Leyla@antiques.EXAMPLE "],
)
def test_add_staff_refuses_an_e_mail_already_in_use_whatever_its_case(
    vault: Vault, again: str
) -> None:
    business_id = make_business(vault)[0]
    other_business = make_business(vault, name="Quba Xalçaları")[0]
    with vault.unit_of_work() as uow:
        add_staff(uow, business_id, staff("Leyla@Antiques.example"), STAFF_PASSWORD)
    for target in (business_id, other_business):
        with vault.unit_of_work() as uow, pytest.raises(StaffEmailTakenError):
            add_staff(uow, target, staff(again), STAFF_PASSWORD)
    with vault.unit_of_work(write=False) as uow:
        assert len(uow.session.scalars(select(StaffUser.id)).all()) == 1
    assert [kind for kind, _, _ in log(vault, other_business)] == [
        "business.created",
        "client.created",
    ]


def test_add_staff_refuses_an_unknown_business(vault: Vault) -> None:
    with vault.unit_of_work() as uow, pytest.raises(BusinessNotFoundError):
        add_staff(uow, uuid.uuid4(), staff("nobody@example.org"), STAFF_PASSWORD)
    with vault.unit_of_work(write=False) as uow:
        assert uow.session.scalars(select(StaffUser.id)).all() == []


def test_add_staff_refuses_a_short_password_and_stores_nothing(vault: Vault) -> None:
    business_id = make_business(vault)[0]
    with vault.unit_of_work() as uow, pytest.raises(PasswordPolicyError):
        add_staff(uow, business_id, staff("short@antiques.example"), "too short")
    with vault.unit_of_work(write=False) as uow:
        assert uow.session.scalars(select(StaffUser.id)).all() == []
    assert "staff.created" not in [kind for kind, _, _ in log(vault, business_id)]


def test_business_snapshot_of_an_unknown_business_raises(vault: Vault) -> None:
    with vault.unit_of_work(write=False) as uow, pytest.raises(BusinessNotFoundError):
        business_snapshot(uow, uuid.uuid4())


# --- the access log ------------------------------------------------------------------------------


def test_each_creation_appends_an_event_to_the_access_log(vault: Vault) -> None:
    with vault.unit_of_work() as uow:
        business_id, issued = create_business(
            uow,
            BusinessIn(**BUSINESS),
            ClientIn(name="Website", redirect_uris=[REDIRECT_URI]),
            actor="operator:cli",
        )
    with vault.unit_of_work() as uow:
        staff_id = add_staff(
            uow, business_id, staff("owner@antiques.example", StaffRole.OWNER), STAFF_PASSWORD
        )
    assert log(vault, business_id) == [
        ("business.created", "operator:cli", None),
        ("client.created", "operator:cli", issued.client_id),
        ("staff.created", "operator", f"{staff_id} owner"),
    ]
    with vault.unit_of_work(write=False) as uow:
        stored = uow.session.get(Business, business_id)
        assert stored is not None and stored.legal_name == BUSINESS["legal_name"]
        details = [e.detail or "" for e in uow.session.scalars(select(AccessEvent))]
    assert not any(issued.client_secret in detail for detail in details)


# --- bad input ---------------------------------------------------------------------------------


def _only_error(exc: ValidationError) -> dict[str, Any]:
    errors = exc.errors()
    assert len(errors) == 1, errors
    return dict(errors[0])


@pytest.mark.parametrize(
    ("field", "value", "code", "words"),
    [
        ("policy_url", "http://antiques.example/privacy", "url_not_https", "https://"),
        ("policy_url", "antiques.example/privacy", "url_invalid", "full web address"),
        ("policy_url", "javascript:alert(1)", "url_invalid", "full web address"),
        ("country", "XX", "country_unknown", "two-letter ISO 3166"),
        ("country", "Azerbaijan", "country_unknown", "Unknown country"),
        ("privacy_email", "privacy-at-antiques.example", "email_invalid", "e-mail address"),
        ("legal_name", "", "text_required", "required"),
        ("legal_name", "Antik\u202ever", "text_control_character", "U+202E"),
    ],
)
def test_invalid_business_input_is_refused_with_a_clear_message(
    field: str, value: str, code: str, words: str
) -> None:
    with pytest.raises(ValidationError) as refused:
        BusinessIn(**{**BUSINESS, field: value})
    error = _only_error(refused.value)
    assert (error["loc"], error["type"]) == ((field,), code)
    assert words in error["msg"]


@pytest.mark.parametrize(
    ("uri", "code", "words"),
    [
        ("https://shop.example/callback#done", "redirect_uri_fragment", "#fragment"),
        ("https://shop.example/callback#", "redirect_uri_fragment", "#fragment"),
        ("http://shop.example/callback", "url_not_https", "https://"),
        ("shop.example/callback", "url_invalid", "full web address"),
    ],
)
def test_an_invalid_redirect_uri_is_refused_with_a_clear_message(
    uri: str, code: str, words: str
) -> None:
    with pytest.raises(ValidationError) as refused:
        ClientIn(name="Website", redirect_uris=[uri])
    error = _only_error(refused.value)
    assert (error["loc"], error["type"]) == (("redirect_uris", 0), code)
    assert words in error["msg"]


@pytest.mark.parametrize(
    "uri",
    ["http://127.0.0.1:8000/callback", "http://localhost/cb", "https://shop.example/cb?x=1"],
)
def test_loopback_http_and_https_redirect_uris_are_accepted(uri: str) -> None:
    assert ClientIn(name="Website", redirect_uris=[uri]).redirect_uris == [uri]


def test_http_policy_url_is_accepted_on_this_machine_only() -> None:
    local = BusinessIn(**{**BUSINESS, "policy_url": "http://127.0.0.1:5000/privacy"})
    assert local.policy_url == "http://127.0.0.1:5000/privacy"


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [("email", "leyla@", "email_invalid"), ("role", "admin", "enum")],
)
def test_invalid_staff_input_is_refused_with_a_clear_message(
    field: str, value: str, code: str
) -> None:
    with pytest.raises(ValidationError) as refused:
        StaffIn(
            **{
                "email": "leyla@antiques.example",
                "display_name": "Leyla",
                "role": "agent",
                field: value,
            }
        )
    error = _only_error(refused.value)
    assert (error["loc"], error["type"]) == ((field,), code)
    assert error["msg"]
