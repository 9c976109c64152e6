"""A vault with something on every page: the data the page-by-page checks walk through.

One customer with every catalogue field filled, connections in every state (active, paused,
revoked, a pending request and an amendment), interactions from businesses and from the
customer, and reads in the access log. Text fields can carry hostile payloads, so the same
tour also proves every page shows them as text.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from broker.businesses.services import business_snapshot
from broker.gate import Caller, append_interaction, read_profile
from schemas.interactions import InteractionEntry, InteractionKind
from tests.conftest import TEST_PASSWORD, make_customer
from tests.factories import make_active_agreement, make_business, make_request, terms_for
from tests.field_examples import GOOD_VALUES
from vault.agreements.models import Agreement
from vault.agreements.services import (
    Context,
    request_agreement,
    restrict_agreement,
    revoke_agreement,
)
from vault.interactions.services import log_interaction
from vault.unit_of_work import Vault

XSS_PAYLOADS = ("<script>alert(1)</script>", '"><img src=x onerror=alert(1)>')
CUSTOMER = Context(actor="customer")


@dataclass
class Tour:
    """What the tour made, for tests to find their way around."""

    email: str
    password: str
    customer_id: uuid.UUID
    agreements: dict[str, uuid.UUID] = field(default_factory=dict)
    values: list[str] = field(default_factory=list)

    def data_shown(self) -> set[str]:
        """Every text the tour put in that a page may show as it is, in any language."""
        texts = set(self.values) | set(BUSINESS_TEXTS) | {self.email}
        for _, canonical in GOOD_VALUES.values():
            texts |= _strings(canonical)
        return texts


BUSINESS_TEXTS = (
    "Köhnə Şəhər Antikvarları",
    "Mill Lane Books",
    "Anadolu Halı Evi",
    "privacy@antiques.example",
    "https://antiques.example/privacy",
    "İçərişəhər, Qüllə küçəsi 5, Bakı",
    "Call you when a piece you collect comes in",
    "Looked at the Quba rug",
    "Copper jug from Lahıc",
    "Rang about a new carpet",
    "Compare prices at the bazaar",
)


def _strings(value: object) -> set[str]:
    if isinstance(value, str):
        return {value}
    if isinstance(value, dict):
        return set().union(*(_strings(v) for v in value.values()))
    if isinstance(value, list):
        return set().union(*(_strings(v) for v in value)) if value else set()
    return {str(value)}


def _profile(hostile: bool) -> dict[str, object]:
    profile = {key: raw for key, (raw, _) in GOOD_VALUES.items()}
    if not hostile:
        return profile
    a, b = XSS_PAYLOADS
    # Every field that takes free text gets a payload; e-mail, phone, dates and choices
    # cannot hold one (their validation refuses it), which their own tests show.
    profile.update(
        {
            "identity.given_name": a,
            "identity.family_name": b,
            "contact.region": a,
            "work.occupation": b,
            "work.employer": a,
            "work.job_title": b,
            "preferences.interests": [a, b],
            "preferences.brands": [a, b],
            "contact.address": {"street": a, "city": b, "postal_code": "AZ 1000", "country": "AZ"},
            "intent.purchases": [
                {"what": a, "by": "2027-06-01", "budget": "100", "currency": "AZN"}
            ],
        }
    )
    return profile


def build_tour(vault: Vault, *, hostile: bool = False, email: str = "tour@example.az") -> Tour:
    """Fill a vault so that every page of it has something to show."""
    customer_id = make_customer(vault, email=email, profile=_profile(hostile))
    tour = Tour(email, TEST_PASSWORD, customer_id)
    shop, shop_client = make_business(
        vault, name=XSS_PAYLOADS[1] if hostile else "Köhnə Şəhər Antikvarları"
    )
    books, _ = make_business(vault, name="Mill Lane Books", redirect_uri="https://books.example/cb")
    carpets, _ = make_business(
        vault, name="Anadolu Halı Evi", redirect_uri="https://hali.example/cb"
    )
    fields = {"identity.given_name": "read", "contact.phone": "read", "interactions": "append"}
    tour.agreements["active"] = make_active_agreement(vault, shop, customer_id, fields)
    tour.agreements["paused"] = make_active_agreement(
        vault, books, customer_id, {"identity.given_name": "read", "contact.email": "read"}
    )
    tour.agreements["revoked"] = make_active_agreement(
        vault, carpets, customer_id, {"contact.address": "read"}, purpose="Marketing"
    )
    with vault.unit_of_work() as uow:
        restrict_agreement(uow, tour.agreements["paused"], customer_id, CUSTOMER)
    with vault.unit_of_work() as uow:
        revoke_agreement(uow, tour.agreements["revoked"], customer_id, CUSTOMER)
    tour.agreements["pending"] = make_request(
        vault,
        carpets,
        {"contact.email": "read", "preferences.interests": "read"},
        customer_id,
        purpose="Marketing",
    )
    with vault.unit_of_work() as uow:
        active = uow.session.get(Agreement, tour.agreements["active"])
        assert active is not None
        amendment = request_agreement(
            uow,
            business=business_snapshot(uow, shop),
            terms=terms_for({**fields, "contact.email": "read"}, duration="P2Y"),
            context=Context(actor=f"client:{shop_client.client_id}"),
            customer_id=customer_id,
            supersedes=active,
        )
        uow.commit()
        tour.agreements["amendment"] = amendment.id
    caller = Caller(shop, f"client:{shop_client.client_id}")
    now = datetime.now(UTC)
    for back, (kind, summary) in enumerate(
        (
            (InteractionKind.VISIT, XSS_PAYLOADS[0] if hostile else "Looked at the Quba rug"),
            (InteractionKind.PURCHASE, "Copper jug from Lahıc"),
            (InteractionKind.CALL, XSS_PAYLOADS[1] if hostile else "Rang about a new carpet"),
        )
    ):
        with vault.unit_of_work() as uow:
            append_interaction(
                uow,
                caller,
                tour.agreements["active"],
                InteractionEntry(
                    kind=kind,
                    summary=summary,
                    occurred_at=now - timedelta(days=10 * back + 1),
                    amount=Decimal("480.00") if kind is InteractionKind.PURCHASE else None,
                    currency="AZN" if kind is InteractionKind.PURCHASE else None,
                    details=XSS_PAYLOADS[1] if hostile else None,
                ),
            )
    with vault.unit_of_work() as uow:
        log_interaction(
            uow,
            customer_id,
            InteractionEntry(
                kind=InteractionKind.NOTE,
                occurred_at=now - timedelta(hours=3),
                summary=XSS_PAYLOADS[0] if hostile else "Compare prices at the bazaar",
            ),
        )
    for _ in range(3):
        with vault.unit_of_work() as uow:
            read_profile(uow, caller, tour.agreements["active"])
    tour.values = [str(v) for v in _profile(hostile).values() if isinstance(v, str)]
    return tour
