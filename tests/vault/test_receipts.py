"""Consent receipts: every decision is signed (JWS, Ed25519) with Kantara v1.1 + ISO 27560 claims.

Receipts are checked with joserfc, a JOSE library Emanet does not write, against the JWKS the
keyring publishes.
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest
from joserfc import jws, jwt
from joserfc.errors import BadSignatureError
from joserfc.jwk import KeySet
from sqlalchemy import func, select

from broker.businesses.services import business_snapshot
from broker.pairwise import derive_subject
from emanet.settings import Settings
from schemas.agreements import AccessMode, AgreementStatus
from tests.factories import make_active_agreement, make_business, make_request, terms_for
from vault.agreements.models import Agreement, AgreementEvent
from vault.agreements.services import (
    Context,
    decide_request,
    narrow_agreement,
    request_agreement,
    restrict_agreement,
    revoke_agreement,
)
from vault.keys.provider import KeyringError
from vault.outbox.models import OutboxEvent
from vault.receipts.models import ConsentReceipt
from vault.receipts.services import SignatureError, receipts_for, verify_receipt
from vault.unit_of_work import Vault

CUSTOMER = Context(actor="customer", ip="203.0.113.7", user_agent="pytest", language="az")
FIELDS = {"identity.given_name": "read", "contact.email": "read", "contact.phone": "write"}
SOME = {"identity.given_name": "read"}
KANTARA_REQUIRED = [  # Consent Receipt Specification v1.1.0, §4.3-§4.5
    "version",
    "jurisdiction",
    "consentTimestamp",
    "collectionMethod",
    "consentReceiptID",
    "language",
    "piiPrincipalId",
    "piiControllers",
    "policyUrl",
    "services",
    "sensitive",
]
KANTARA_CONTROLLER = ["piiController", "contact", "address", "email"]
KANTARA_SERVICE = ["service", "purposes"]
KANTARA_PURPOSE = [
    "purpose",
    "purposeCategory",
    "consentType",
    "piiCategory",
    "primaryPurpose",
    "termination",
    "thirdPartyDisclosure",
]
ISO_27560_RECORD = [
    "schema_version",
    "record_id",
    "receipt_id",
    "pii_principal_id",
    "privacy_notice",
    "language",
    "purposes",
    "parties",
    "event",
]
ISO_27560_PURPOSE = [
    "purpose",
    "lawful_basis",
    "pii_information",
    "pii_controllers",
    "collection_method",
    "storage_locations",
    "retention_period",
    "jurisdiction",
    "recipient_third_parties",
    "withdrawal_method",
]
ISO_27560_EVENT = ["event_time", "event_type", "event_state", "entity_id", "validity_duration"]
# joserfc warns that RFC 9864 deprecates the polymorphic "EdDSA" name in favour of "Ed25519";
# receipts keep "EdDSA" (RFC 8037) while most verifiers in the field know only that name.
pytestmark = pytest.mark.filterwarnings("ignore:EdDSA is deprecated via RFC 9864")


@pytest.fixture
def business_id(vault: Vault) -> uuid.UUID:
    return make_business(vault)[0]


def modes(fields: Mapping[str, str]) -> dict[str, AccessMode]:
    return {key: AccessMode(mode) for key, mode in fields.items()}


def all_receipts(vault: Vault) -> list[ConsentReceipt]:
    with vault.unit_of_work(write=False) as uow:
        found = list(uow.session.scalars(select(ConsentReceipt).order_by(ConsentReceipt.event_id)))
        uow.session.expunge_all()
        return found


def receipts_of(vault: Vault, agreement_id: uuid.UUID) -> list[ConsentReceipt]:
    with vault.unit_of_work(write=False) as uow:
        found = receipts_for(uow, agreement_id)
        uow.session.expunge_all()
        return found


def decode(vault: Vault, token: str) -> jwt.Token:
    """Verify a receipt the way an outsider would: joserfc and the published JWKS."""
    return jwt.decode(token, KeySet.import_key_set(vault.provider.public_jwks()), ["EdDSA"])


def amendment_of(vault: Vault, business_id: uuid.UUID, customer: uuid.UUID) -> uuid.UUID:
    previous_id = make_active_agreement(vault, business_id, customer, SOME)
    with vault.unit_of_work() as uow:
        amendment = request_agreement(
            uow,
            business=business_snapshot(uow, business_id),
            terms=terms_for(FIELDS),
            context=Context(actor=f"business:{business_id}"),
            customer_id=customer,
            supersedes=uow.session.get(Agreement, previous_id),
        )
        uow.commit()
        return amendment.id


def _decide(granted: Mapping[str, str] | None) -> Callable[[Vault, uuid.UUID, uuid.UUID], Any]:
    def act(vault: Vault, agreement_id: uuid.UUID, customer: uuid.UUID) -> Any:
        with vault.unit_of_work() as uow:
            chosen = None if granted is None else modes(granted)
            return decide_request(uow, agreement_id, customer, chosen, CUSTOMER)

    return act


def _revoke(vault: Vault, agreement_id: uuid.UUID, customer: uuid.UUID) -> Any:
    with vault.unit_of_work() as uow:
        return revoke_agreement(uow, agreement_id, customer, CUSTOMER)


def _narrow(vault: Vault, agreement_id: uuid.UUID, customer: uuid.UUID) -> Any:
    with vault.unit_of_work() as uow:
        return narrow_agreement(uow, agreement_id, customer, modes(SOME), CUSTOMER)


def _requested(vault: Vault, business_id: uuid.UUID, customer: uuid.UUID) -> uuid.UUID:
    return make_request(vault, business_id, FIELDS, customer)


def _active(vault: Vault, business_id: uuid.UUID, customer: uuid.UUID) -> uuid.UUID:
    return make_active_agreement(vault, business_id, customer, FIELDS)


SCENARIOS = {  # kind → (agreement it starts from, the customer's action, status after)
    "granted": (_requested, _decide(FIELDS), "active"),
    "partially_granted": (_requested, _decide(SOME), "active"),
    "declined": (_requested, _decide(None), "declined"),
    "amended": (amendment_of, _decide(FIELDS), "active"),
    "narrowed": (_active, _narrow, "active"),
    "revoked": (_active, _revoke, "revoked"),
}


@pytest.mark.parametrize("kind", list(SCENARIOS))
def test_each_decision_issues_exactly_one_verifiable_receipt(
    vault: Vault, business_id: uuid.UUID, customer_id: uuid.UUID, kind: str
) -> None:
    start, act, status = SCENARIOS[kind]
    agreement_id = start(vault, business_id, customer_id)
    before = {r.id for r in all_receipts(vault)}
    act(vault, agreement_id, customer_id)
    new = [r for r in all_receipts(vault) if r.id not in before]
    assert [(r.kind, r.agreement_id) for r in new] == [(kind, agreement_id)]
    receipt = new[0]
    active_kid, _ = vault.provider.signing_key()
    assert receipt.kid == active_kid

    token = decode(vault, receipt.jws)
    compact = jws.deserialize_compact(
        receipt.jws, KeySet.import_key_set(vault.provider.public_jwks()), ["EdDSA"]
    )
    assert json.loads(compact.payload) == token.claims
    assert token.header == {"alg": "EdDSA", "kid": active_kid, "typ": "consent-receipt+jwt"}
    claims = token.claims
    assert verify_receipt(receipt.jws, vault.provider.public_jwks()) == claims

    assert [f for f in KANTARA_REQUIRED if f not in claims] == []
    assert claims["version"] == "KI-CR-v1.1.0"
    assert claims["language"] == "az"
    assert isinstance(claims["consentTimestamp"], int)
    assert claims["consentReceiptID"] == claims["jti"] == str(receipt.id)
    controller = claims["piiControllers"][0]
    assert [f for f in KANTARA_CONTROLLER if f not in controller] == []
    assert controller["address"]["addressCountry"] == claims["jurisdiction"] == "AZ"
    service = claims["services"][0]
    assert [f for f in KANTARA_SERVICE if f not in service] == []
    purpose = service["purposes"][0]
    assert [f for f in KANTARA_PURPOSE if f not in purpose] == []
    assert purpose["consentType"] == "EXPLICIT"

    record = claims["consentRecord"]
    assert [f for f in ISO_27560_RECORD if f not in record] == []
    assert [f for f in ISO_27560_PURPOSE if f not in record["purposes"][0]] == []
    assert [f for f in ISO_27560_EVENT if f not in record["event"]] == []
    assert record["record_id"] == str(agreement_id)
    assert record["event"]["event_type"] == kind
    expected_state = {"declined": "refused", "revoked": "withdrawn"}.get(kind, "given")
    assert record["event"]["event_state"] == expected_state

    assert claims["iss"] == vault.issuer
    assert claims["emanet:agreement_id"] == str(agreement_id)
    assert claims["emanet:status"] == status
    assert claims["emanet:requested_fields"] == FIELDS
    expected_granted = {"declined": {}, "partially_granted": SOME, "narrowed": SOME}
    assert claims["emanet:granted_fields"] == expected_granted.get(kind, FIELDS)
    assert purpose["piiCategory"] == sorted(claims["emanet:granted_fields"])


def test_an_amendment_receipt_names_what_it_supersedes(
    vault: Vault, business_id: uuid.UUID, customer_id: uuid.UUID
) -> None:
    amendment_id = amendment_of(vault, business_id, customer_id)
    _decide(FIELDS)(vault, amendment_id, customer_id)
    with vault.unit_of_work(write=False) as uow:
        previous_id = uow.session.get(Agreement, amendment_id).supersedes_id  # type: ignore[union-attr]
    assert previous_id is not None
    assert [r.kind for r in receipts_of(vault, previous_id)] == ["granted"]  # none for superseded
    (receipt,) = receipts_of(vault, amendment_id)
    claims = decode(vault, receipt.jws).claims
    assert claims["emanet:supersedes"] == str(previous_id)
    assert claims["consentRecord"]["privacy_notice"]["version"] == 2


def test_a_sensitive_grant_is_marked_and_categorised(
    vault: Vault, business_id: uuid.UUID, customer_id: uuid.UUID
) -> None:
    sensitive_id = make_active_agreement(vault, business_id, customer_id, FIELDS)
    plain_id = make_active_agreement(vault, business_id, customer_id, FIELDS, granted=SOME)
    sensitive = decode(vault, receipts_of(vault, sensitive_id)[0].jws).claims
    plain = decode(vault, receipts_of(vault, plain_id)[0].jws).claims
    assert sensitive["sensitive"] is True
    assert sensitive["spiCat"] == ["contact.phone"]  # HIGH in the field catalogue
    assert plain["sensitive"] is False
    assert "spiCat" not in plain


def test_the_principal_is_the_pairwise_id_never_the_customer_id(
    vault: Vault, business_id: uuid.UUID, customer_id: uuid.UUID
) -> None:
    other_business = make_business(vault, name="Qala Kitab Evi")[0]
    first = make_active_agreement(vault, business_id, customer_id, SOME)
    second = make_active_agreement(vault, other_business, customer_id, SOME)
    tokens = [receipts_of(vault, a)[0].jws for a in (first, second)]
    with vault.unit_of_work(write=False) as uow:
        expected = [derive_subject(uow, b, customer_id) for b in (business_id, other_business)]
    principals = [decode(vault, token).claims["piiPrincipalId"] for token in tokens]
    assert principals == expected  # what each business already calls the customer
    assert principals[0] != principals[1]
    for token in tokens:
        assert str(customer_id) not in base64.urlsafe_b64decode(token.split(".")[1] + "==").decode()


def test_a_receipt_signed_before_a_key_rotation_still_verifies(
    vault: Vault, business_id: uuid.UUID, customer_id: uuid.UUID
) -> None:
    agreement_id = make_active_agreement(vault, business_id, customer_id, FIELDS)
    old_kid, _ = vault.provider.signing_key()
    new_kid = vault.provider.rotate_signing_key()
    _revoke(vault, agreement_id, customer_id)
    granted, revoked = receipts_of(vault, agreement_id)
    assert (granted.kid, revoked.kid) == (old_kid, new_kid)
    for receipt in (granted, revoked):
        assert decode(vault, receipt.jws).header["kid"] == receipt.kid
        verify_receipt(receipt.jws, vault.provider.public_jwks())


def _tamper_payload(token: str) -> str:
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["emanet:granted_fields"]["contact.phone"] = "write"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{header}.{forged}.{signature}"


def _tamper_signature(token: str) -> str:
    header, payload, signature = token.split(".")
    raw = bytearray(base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4)))
    raw[0] ^= 0x01
    return f"{header}.{payload}.{base64.urlsafe_b64encode(bytes(raw)).rstrip(b'=').decode()}"


def test_a_tampered_receipt_fails_verification(
    vault: Vault, business_id: uuid.UUID, customer_id: uuid.UUID
) -> None:
    agreement_id = make_active_agreement(vault, business_id, customer_id, FIELDS, granted=SOME)
    token = receipts_of(vault, agreement_id)[0].jws
    jwks = vault.provider.public_jwks()
    for forged in (_tamper_payload(token), _tamper_signature(token)):
        with pytest.raises(BadSignatureError):
            jwt.decode(forged, KeySet.import_key_set(jwks), ["EdDSA"])
        with pytest.raises(SignatureError):
            verify_receipt(forged, jwks)
    with pytest.raises(SignatureError):  # signed by a key the JWKS does not publish
        verify_receipt(token, {"keys": []})


def test_restricting_gives_no_receipt(
    vault: Vault, business_id: uuid.UUID, customer_id: uuid.UUID
) -> None:
    agreement_id = make_active_agreement(vault, business_id, customer_id, FIELDS)
    with vault.unit_of_work() as uow:
        restrict_agreement(uow, agreement_id, customer_id, CUSTOMER)
    assert [r.kind for r in all_receipts(vault)] == ["granted"]


def _corrupt_keyring(settings: Settings, vault: Vault) -> None:
    Path(settings.keyring_path).write_text("{not json")


def _failing_signer(settings: Settings, vault: Vault) -> None:
    def refuse() -> Any:
        raise KeyringError("the signing key is out of reach")

    vault.provider.signing_key = refuse  # type: ignore[method-assign]


def _counts(vault: Vault) -> tuple[int, int, int]:
    with vault.unit_of_work(write=False) as uow:
        return tuple(  # type: ignore[return-value]
            uow.session.scalar(select(func.count()).select_from(table))
            for table in (ConsentReceipt, AgreementEvent, OutboxEvent)
        )


@pytest.mark.parametrize("damage", [_corrupt_keyring, _failing_signer])
@pytest.mark.parametrize(
    ("start", "act", "status"),
    [(_requested, _decide(FIELDS), "requested"), (_active, _revoke, "active")],
)
def test_a_receipt_that_cannot_be_signed_leaves_the_decision_unmade(
    vault: Vault,
    settings: Settings,
    business_id: uuid.UUID,
    customer_id: uuid.UUID,
    damage: Callable[[Settings, Vault], None],
    start: Callable[[Vault, uuid.UUID, uuid.UUID], uuid.UUID],
    act: Callable[[Vault, uuid.UUID, uuid.UUID], Any],
    status: str,
) -> None:
    agreement_id = start(vault, business_id, customer_id)
    counts = _counts(vault)
    damage(settings, vault)
    with pytest.raises(KeyringError):
        act(vault, agreement_id, customer_id)
    assert _counts(vault) == counts  # no receipt, no event, no webhook: nothing half-written
    with vault.unit_of_work(write=False) as uow:
        agreement = uow.session.get(Agreement, agreement_id)
        assert agreement is not None
        assert agreement.status == AgreementStatus(status)
        assert agreement.decided_at is None or status == "active"
