"""Fixtures for the business portal: a business with a staff member of every role, a second
business for isolation tests, connected customers with known values, signed-in clients."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient

from broker.businesses.services import add_staff
from broker.pairwise import subject_for
from schemas.businesses import StaffIn, StaffRole
from tests.conftest import TEST_PASSWORD, make_customer
from tests.factories import make_active_agreement, make_business
from vault.unit_of_work import Vault

ROLES = [role.value for role in StaffRole]


@dataclass(frozen=True)
class PortalBusiness:
    """A business with one staff member per role (`staff[role]` is (id, e-mail))."""

    id: uuid.UUID
    name: str
    domain: str
    staff: dict[str, tuple[uuid.UUID, str]]

    def email(self, role: str) -> str:
        return self.staff[role][1]

    def staff_id(self, role: str) -> uuid.UUID:
        return self.staff[role][0]


def make_portal_business(vault: Vault, name: str, domain: str) -> PortalBusiness:
    """Register a business and give it an owner, an agent, a compliance officer and a viewer."""
    business_id, _ = make_business(vault, name=name)
    staff = {}
    for role in ROLES:
        email = f"{role}@{domain}"
        with vault.unit_of_work() as uow:
            staff_id = add_staff(
                uow,
                business_id,
                StaffIn(email=email, display_name=f"{role.title()} of {name}", role=role),
                TEST_PASSWORD,
            )
        staff[role] = (staff_id, email)
    return PortalBusiness(business_id, name, domain, staff)


@pytest.fixture
def business(vault: Vault) -> PortalBusiness:
    """The business under test."""
    return make_portal_business(vault, "Köhnə Şəhər Antikvarları", "antiques.example")


@pytest.fixture
def other_business(vault: Vault) -> PortalBusiness:
    """Another business, whose records the first must never see."""
    return make_portal_business(vault, "Boğaziçi Kitabevi", "books.example")


@dataclass(frozen=True)
class Connected:
    """A customer connected to a business: ids on both sides and the agreement."""

    customer_id: uuid.UUID
    subject: str
    agreement_id: uuid.UUID


def connect_customer(
    vault: Vault,
    business_id: uuid.UUID,
    profile: Mapping[str, object],
    fields: Mapping[str, str],
    granted: Mapping[str, str] | None = None,
    **terms: str,
) -> Connected:
    """Create a customer with this profile and an active agreement granting (some of) `fields`."""
    customer_id = make_customer(vault, profile=dict(profile))
    agreement_id = make_active_agreement(vault, business_id, customer_id, fields, granted, **terms)
    with vault.unit_of_work() as uow:
        subject = subject_for(uow, business_id, customer_id)
        uow.commit()
    return Connected(customer_id, subject, agreement_id)


def csrf_token(html: str) -> str:
    """Return the CSRF token of the first form on a page."""
    found = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or re.search(
        r'value="([^"]+)"[^>]*name="csrf_token"', html
    )
    assert found, "the page has no CSRF token"
    return found.group(1)


def sign_in_staff(client: FlaskClient, email: str, password: str = TEST_PASSWORD) -> None:
    """Sign a staff member in through the portal's sign-in form."""
    page = client.get("/portal/login")
    answer = client.post(
        "/portal/login",
        data={"email": email, "password": password, "csrf_token": csrf_token(page.text)},
    )
    assert answer.status_code == 303, answer.text


@pytest.fixture
def staff_client(app: Flask, business: PortalBusiness) -> Callable[[str], FlaskClient]:
    """Return a client signed in as the business's staff member of the given role."""

    def signed_in(role: str = "owner", of: PortalBusiness | None = None) -> FlaskClient:
        client = app.test_client()
        sign_in_staff(client, (of or business).email(role))
        return client

    return signed_in


class Clock:
    """A clock the test moves by hand (starts at the real time, so consent stays valid)."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock(vault: Vault) -> Clock:
    """Put the vault on a hand-moved clock."""
    moved = Clock(datetime.now(UTC).replace(microsecond=0))
    vault.clock = moved
    return moved
