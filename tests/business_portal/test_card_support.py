"""What the customer card tests share: a customer with known values, and ways to look inside."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass

from flask.testing import FlaskClient
from sqlalchemy import func, select

from broker.pairwise import subject_for
from tests.broker.oauth_helpers import sign_in
from tests.business_portal.conftest import csrf_token
from tests.conftest import make_customer
from tests.factories import make_active_agreement
from vault.access_log.models import AccessEvent
from vault.agreements.models import Agreement
from vault.unit_of_work import Vault

# Known values: the card may show the granted ones, never the others.
PROFILE = {
    "identity.given_name": "Nigar",
    "identity.family_name": "Quliyevaxq",
    "identity.birth_date": "1987-03-14",
    "contact.phone": "+994501234567",
    "contact.email": "nigar.hidden-mail@example.org",
}
ASKED = {
    "identity.given_name": "read",
    "contact.phone": "read",
    "contact.email": "read",
    "interactions": "append",
}
GRANTED = {"identity.given_name": "read", "contact.phone": "read", "interactions": "append"}
# Values that must appear nowhere: e-mail asked for but not granted, the rest never asked.
HIDDEN = ("nigar.hidden-mail", "Quliyevaxq", "1987", "March 14")


@dataclass(frozen=True)
class Customer:
    """A customer connected to a business, with the e-mail they sign in to the vault with."""

    customer_id: uuid.UUID
    subject: str
    agreement_id: uuid.UUID
    email: str

    @property
    def card(self) -> str:
        return f"/portal/customers/{self.subject}"


def connect(
    vault: Vault,
    business_id: uuid.UUID,
    asked: Mapping[str, str] = ASKED,
    granted: Mapping[str, str] | None = GRANTED,
    profile: Mapping[str, object] = PROFILE,
) -> Customer:
    """Create a customer with the profile and an active agreement with the business."""
    email = f"card-{uuid.uuid4().hex[:10]}@example.org"
    customer_id = make_customer(vault, email=email, profile=dict(profile))
    agreement_id = make_active_agreement(vault, business_id, customer_id, asked, granted)
    with vault.unit_of_work() as uow:
        subject = subject_for(uow, business_id, customer_id)
        uow.commit()
    return Customer(customer_id, subject, agreement_id, email)


def post_form(client: FlaskClient, path: str, data: Mapping[str, object]) -> tuple[int, str]:
    """Post a form with a CSRF token taken from a portal page; return status and body."""
    token = csrf_token(client.get("/portal/login").text)
    answer = client.post(path, data={"csrf_token": token, **data})
    return answer.status_code, answer.text


def customer_vault_page(app_client: FlaskClient, customer: Customer, path: str) -> str:
    """Sign the customer in to their vault and return one of its pages."""
    sign_in(app_client, customer.email)
    page = app_client.get(path)
    assert page.status_code == 200
    return page.text


def agreements_of(vault: Vault, customer_id: uuid.UUID) -> list[Agreement]:
    """Return the customer's agreements, oldest first."""
    with vault.unit_of_work(write=False) as uow:
        rows = uow.session.scalars(
            select(Agreement)
            .where(Agreement.customer_id == customer_id)
            .order_by(Agreement.created_at)
        )
        return list(rows)


def log_count(vault: Vault, kind: str, actor: str | None = None) -> int:
    """Return how many access-log events of a kind (by an actor) there are."""
    query = select(func.count()).select_from(AccessEvent).where(AccessEvent.kind == kind)
    if actor is not None:
        query = query.where(AccessEvent.actor == actor)
    with vault.unit_of_work(write=False) as uow:
        return int(uow.session.scalar(query) or 0)
