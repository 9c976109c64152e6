"""An agreement's record in the console: versions and their diff, lifecycle events, receipts
checked against the published keys, the access log, and the review workflow."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Callable

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from broker.businesses.models import OAuthClient
from broker.gate import AccessDenied, Caller, read_profile
from business_portal.compliance.models import AgreementReview, ReviewEvent
from business_portal.compliance.services.reviews import open_change_requests
from business_portal.records.models import RequestTemplate
from schemas.agreements import AccessMode
from tests.business_portal.conftest import PortalBusiness, connect_customer, csrf_token
from tests.business_portal.test_compliance_factories import (
    CUSTOMER,
    agreement,
    customer_of,
    revoke,
    terms,
)
from tests.factories import terms_for
from vault.agreements.services import narrow_agreement
from vault.receipts.models import ConsentReceipt
from vault.unit_of_work import Vault

PROFILE = {
    "identity.given_name": "Rəşad",
    "identity.family_name": "Məmmədov",
    "contact.email": "resad@example.org",
}
FIELDS = {"identity.given_name": "read", "contact.email": "read"}
SECRETS = ("Rəşad", "Məmmədov", "resad@example.org")


def _page(client: FlaskClient, agreement_id: uuid.UUID, lang: str = "en") -> str:
    answer = client.get(f"/portal/compliance/agreements/{agreement_id}?lang={lang}")
    assert answer.status_code == 200
    return answer.text


def test_versions_show_what_an_amendment_and_a_narrowing_changed(
    vault: Vault, business: PortalBusiness, staff_client: Callable[..., FlaskClient]
) -> None:
    first = agreement(vault, business.id, terms(FIELDS, duration="P1Y"), profile=PROFILE)
    customer_id = customer_of(vault, first)
    wider = {**FIELDS, "identity.family_name": "read"}
    second = agreement(
        vault,
        business.id,
        terms(wider, duration="P2Y", retention="P60D"),
        customer_id=customer_id,
        supersedes=first,
    )
    keep = {"identity.given_name": AccessMode.READ, "identity.family_name": AccessMode.READ}
    with vault.unit_of_work() as uow:
        narrow_agreement(uow, second, customer_id, keep, CUSTOMER)
    officer = staff_client("compliance")
    text = _page(officer, second)
    assert "Asks for Family name (read)" in text
    assert "Term: 1 year → 2 years" in text
    assert "Retention: 30 days → 60 days" in text
    assert "Granted Family name (read)" in text
    assert "Withdrawn: E-mail" in text
    assert "Superseded by an amendment" in text  # the first agreement's last event
    assert "Fields withdrawn by the customer" in text
    assert f'href="/portal/compliance/agreements/{first}"' in text
    for value in SECRETS:
        assert value not in text
    for lang in ("az", "tr"):
        assert "Məmmədov" not in _page(officer, second, lang)


def test_lifecycle_events_show_actor_time_ip_and_user_agent(
    vault: Vault, business: PortalBusiness, staff_client: Callable[..., FlaskClient]
) -> None:
    connected = connect_customer(vault, business.id, PROFILE, FIELDS)
    text = _page(staff_client("compliance"), connected.agreement_id)
    assert "Requested by the business" in text and "Granted by the customer" in text
    assert "203.0.113.7" in text and "pytest" in text
    assert "<time datetime=" in text


def _verify(client: FlaskClient, agreement_id: uuid.UUID, receipt_id: uuid.UUID) -> str:
    token = csrf_token(client.get(f"/portal/compliance/agreements/{agreement_id}").text)
    answer = client.post(
        f"/portal/compliance/agreements/{agreement_id}/receipts/{receipt_id}/verify",
        data={"csrf_token": token},
    )
    assert answer.status_code == 200
    return answer.text


def test_receipt_verification_says_valid_and_invalid_once_tampered(
    vault: Vault, business: PortalBusiness, staff_client: Callable[..., FlaskClient]
) -> None:
    connected = connect_customer(vault, business.id, PROFILE, FIELDS)
    other = connect_customer(vault, business.id, PROFILE, FIELDS)
    with vault.unit_of_work(write=False) as uow:
        receipt = uow.session.scalars(
            select(ConsentReceipt).where(ConsentReceipt.agreement_id == connected.agreement_id)
        ).one()
        others = uow.session.scalar(
            select(ConsentReceipt.id).where(ConsentReceipt.agreement_id == other.agreement_id)
        )
    officer = staff_client("compliance")
    valid = _verify(officer, connected.agreement_id, receipt.id)
    assert "Valid." in valid and "Not valid." not in valid
    assert receipt.kid in valid
    assert "Rəşad" not in valid and "resad@example.org" not in valid
    # Grant one more field in the payload and keep the old signature.
    header, payload, signature = receipt.jws.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["emanet:granted_fields"]["contact.phone"] = "read"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    with vault.unit_of_work() as uow:
        stored = uow.session.get(ConsentReceipt, receipt.id)
        assert stored is not None
        stored.jws = f"{header}.{forged}.{signature}"
        uow.commit()
    invalid = _verify(officer, connected.agreement_id, receipt.id)
    assert "Not valid." in invalid and "Valid." not in invalid.replace("Not valid.", "")
    # A receipt of another agreement is not found under this one.
    token = csrf_token(officer.get("/portal/compliance/reports").text)
    stray = officer.post(
        f"/portal/compliance/agreements/{connected.agreement_id}/receipts/{others}/verify",
        data={"csrf_token": token},
    )
    assert stray.status_code == 404


def test_the_access_log_names_staff_clients_fields_and_refusals(
    vault: Vault, business: PortalBusiness, staff_client: Callable[..., FlaskClient]
) -> None:
    connected = connect_customer(vault, business.id, PROFILE, FIELDS)
    with vault.unit_of_work(write=False) as uow:
        client_id = uow.session.scalar(
            select(OAuthClient.client_id).where(OAuthClient.business_id == business.id)
        )
    agent = Caller(business.id, f"staff:{business.staff_id('agent')}")
    api = Caller(business.id, f"client:{client_id}")
    with vault.unit_of_work() as uow:
        read_profile(uow, agent, connected.agreement_id)
    with vault.unit_of_work() as uow:
        read_profile(uow, api, connected.agreement_id, ["contact.email"])
    revoke(vault, connected.agreement_id)
    with vault.unit_of_work() as uow, pytest.raises(AccessDenied):
        read_profile(uow, api, connected.agreement_id)
    officer = staff_client("compliance")
    text = _page(officer, connected.agreement_id)
    assert f"Staff member Agent of {business.name}" in text
    assert f"API client {business.name} website" in text
    assert "Given name" in text and "E-mail" in text
    assert "refused: the agreement was revoked" in text
    assert "Reads after the end" in text  # the flag
    for value in SECRETS:
        assert value not in text
    registry = officer.get("/portal/compliance/").text
    assert "Never" not in registry  # the last access is shown


def _review(client: FlaskClient, agreement_id: uuid.UUID, **data: str) -> tuple[int, str]:
    token = csrf_token(client.get(f"/portal/compliance/agreements/{agreement_id}").text)
    answer = client.post(
        f"/portal/compliance/agreements/{agreement_id}/reviews",
        data={**data, "csrf_token": token},
    )
    return answer.status_code, answer.text


def _reviews(vault: Vault) -> int:
    with vault.unit_of_work(write=False) as uow:
        return uow.session.scalar(select(func.count()).select_from(ReviewEvent)) or 0


def _template(vault: Vault, business_id: uuid.UUID, name: str) -> uuid.UUID:
    with vault.unit_of_work() as uow:
        row = RequestTemplate(
            business_id=business_id,
            name=name,
            terms=terms_for(FIELDS).model_dump(mode="json"),
            created_at=uow.now(),
            updated_at=uow.now(),
        )
        uow.session.add(row)
        uow.commit()
        return row.id


def test_review_workflow_comments_asks_for_a_change_and_signs_off(
    vault: Vault,
    business: PortalBusiness,
    other_business: PortalBusiness,
    staff_client: Callable[..., FlaskClient],
) -> None:
    connected = connect_customer(vault, business.id, PROFILE, FIELDS)
    template = _template(vault, business.id, "Collector calls")
    foreign = _template(vault, other_business.id, "Book club")
    officer, owner = staff_client("compliance"), staff_client("owner")
    target = connected.agreement_id

    status, text = _review(officer, target, kind="comment", comment="   ")
    assert status == 200 and "Write what you found, or what should change." in text
    status, text = _review(officer, target, kind="change_requested", template=str(foreign))
    assert status == 200 and "Choose one of the options in the list." in text
    status, text = _review(officer, target, kind="comment", comment="x" * 2001)
    assert status == 200 and "Use at most 2000 characters." in text
    assert _reviews(vault) == 0  # bad input wrote nothing

    assert _review(officer, target, kind="comment", comment="E-mail looks needed.")[0] == 303
    asked = {"kind": "change_requested", "comment": "Ask only for the given name."}
    assert _review(owner, target, **asked, template=str(template))[0] == 303
    with vault.unit_of_work(write=False) as uow:
        [open_request] = open_change_requests(uow, business.id)
        assert open_request.template_id == template
        assert open_change_requests(uow, other_business.id) == []
    assert _review(officer, target, kind="signed_off")[0] == 303
    with vault.unit_of_work(write=False) as uow:
        assert open_change_requests(uow, business.id) == []  # signed off: nothing left open

    with vault.unit_of_work(write=False) as uow:
        steps = uow.session.scalars(select(ReviewEvent).order_by(ReviewEvent.id)).all()
        state = uow.session.get(AgreementReview, target)
    assert [s.kind for s in steps] == ["comment", "change_requested", "signed_off"]
    assert [s.actor for s in steps] == [
        f"staff:{business.staff_id('compliance')}",
        f"staff:{business.staff_id('owner')}",
        f"staff:{business.staff_id('compliance')}",
    ]
    assert steps[1].template_id == template and steps[2].agreement_version == 1
    assert state is not None and state.state == "signed_off"
    text = _page(officer, target)
    assert "Ask only for the given name." in text and "Collector calls" in text
    assert text.index("E-mail looks needed.") < text.index("Ask only for the given name.")
    signed = officer.get("/portal/compliance/?review=signed_off").text
    assert connected.subject in signed
    unreviewed = officer.get("/portal/compliance/?review=not_reviewed").text
    assert connected.subject not in unreviewed
