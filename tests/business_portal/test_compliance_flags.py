"""The review flags fire on a hand-built data set with a known answer and stay silent on a
clean one; the rules behind them, one by one."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta

import pytest
from flask.testing import FlaskClient

from business_portal.compliance.services import flag_rules as rules
from business_portal.compliance.services.dossier import find_agreement
from business_portal.compliance.services.flags import Flag, agreement_flags
from tests.business_portal.conftest import Clock, PortalBusiness
from tests.business_portal.test_compliance_factories import (
    GOOD_DESCRIPTION,
    agreement,
    at,
    log,
    revoke,
    terms,
)
from vault.unit_of_work import Vault

GIVEN, EMAIL, PHONE = "identity.given_name", "contact.email", "contact.phone"
BIRTH, MARITAL, ADDRESS = "identity.birth_date", "household.marital_status", "contact.address"


@pytest.mark.parametrize(
    "description",
    [
        "",
        "Marketing",
        "For marketing and business purposes.",
        "To improve our services",
        "Analytics and other purposes",
        "Marketinq məqsədləri üçün",
        "Xidmətlərin təkmilləşdirilməsi",
        "Hizmetlerimizi geliştirmek için",
        "PAZARLAMA AMAÇLI",
        "Newsletter",
    ],
)
def test_a_generic_or_short_description_is_vague(description: str) -> None:
    assert rules.is_vague(description)


@pytest.mark.parametrize(
    "description",
    [
        GOOD_DESCRIPTION,
        "Deliver the furniture you bought to your door and call before arriving",
        "Sifarişinizin çatdırılması üçün kuryer sizə zəng edəcək",
        "Siparişinizi kapınıza teslim etmek ve gelmeden önce sizi aramak",
        "Send the monthly marketing letter about new rare books in your interests",
    ],
)
def test_a_specific_description_is_not_vague(description: str) -> None:
    assert not rules.is_vague(description)


def test_the_field_rules() -> None:
    assert rules.excess_fields("Delivery", [GIVEN, ADDRESS, BIRTH]) == [BIRTH]
    assert rules.excess_fields("CustomerCare", [GIVEN, EMAIL, PHONE]) == []
    assert rules.sensitive_fields([GIVEN, BIRTH, "life.events"]) == [BIRTH, "life.events"]
    used = {"profile.read": {GIVEN}, "profile.write": {PHONE}}
    granted = {GIVEN: "read", EMAIL: "read", PHONE: "write", "interactions": "append"}
    assert rules.unused_fields(granted, used) == [EMAIL, "interactions"]
    assert rules.unused_fields({"interactions": "append"}, {"interaction.append": {"x"}}) == []


def test_the_volume_rule() -> None:
    steady = {f"2025-01-{d:02}": 10 for d in range(1, 11)}
    assert rules.volume_spike(steady) is None
    assert rules.volume_spike({**steady, "2025-01-20": 29}) is None  # under 3 × median
    spike = rules.volume_spike({**steady, "2025-01-20": 100})
    assert spike == rules.Spike("2025-01-20", 100, 10)
    assert rules.volume_spike({"2025-01-01": 1, "2025-01-02": 500}) is None  # too few days
    small = {f"2025-01-{d:02}": 1 for d in range(1, 11)}
    assert rules.volume_spike({**small, "2025-01-20": 15}) is None  # under the absolute floor


def _flags(vault: Vault, agreement_id: uuid.UUID) -> list[Flag]:
    with vault.unit_of_work(write=False) as uow:
        found = find_agreement(uow, None, agreement_id)
        assert found is not None
        return agreement_flags(uow, found)


def test_flags_fire_on_a_known_data_set(
    vault: Vault,
    business: PortalBusiness,
    clock: Clock,
    staff_client: Callable[..., FlaskClient],
) -> None:
    now = clock.now
    at(clock, now - timedelta(days=100))
    asked = terms(
        {GIVEN: "read", EMAIL: "read", BIRTH: "read", MARITAL: "read", ADDRESS: "read"},
        purpose="Marketing",
        description="For marketing and business purposes",
    )
    greedy = agreement(vault, business.id, asked)
    at(clock, now - timedelta(days=10))
    ended = agreement(vault, business.id, terms({GIVEN: "read", PHONE: "read"}))
    revoke(vault, ended)
    at(clock, now)
    sync = "client:emc_greedy"
    # Read before the 90-day window: does not count as use.
    log(vault, clock, now - timedelta(days=95), business.id, greedy, sync, [GIVEN, BIRTH])
    for days_ago in range(11, 21):
        moment = now - timedelta(days=days_ago)
        log(vault, clock, moment, business.id, greedy, sync, [GIVEN, EMAIL], times=10)
    spike_at = now - timedelta(days=5)
    log(vault, clock, spike_at, business.id, greedy, sync, [GIVEN, EMAIL], times=100)
    for outcome in ("denied:revoked", "denied:revoked", "denied:expired"):
        log(vault, clock, now - timedelta(hours=1), business.id, ended, sync, [], outcome=outcome)

    found = _flags(vault, greedy)
    assert found == [
        Flag("vague_purpose"),
        Flag("excess_fields", (BIRTH, MARITAL, ADDRESS)),
        Flag("sensitive_fields", (BIRTH, MARITAL)),
        Flag("unused_fields", (BIRTH, MARITAL, ADDRESS)),
        Flag(
            "unusual_volume",
            count=100,
            actor=sync,
            day=spike_at.date().isoformat(),
            median=10,
        ),
    ]
    after_end = _flags(vault, ended)
    assert [(f.code, f.count) for f in after_end] == [("read_after_end", 3)]

    page = staff_client("compliance").get(f"/portal/compliance/agreements/{greedy}").text
    for title in (
        "Vague purpose",
        "More fields than the purpose needs",
        "Sensitive fields",
        "Granted but not used",
        "Unusual pull volume",
    ):
        assert title in page
    assert "read 100 times on" in page


def test_flags_stay_silent_on_a_clean_data_set(
    vault: Vault, business: PortalBusiness, clock: Clock
) -> None:
    now = clock.now
    at(clock, now - timedelta(days=100))
    clean = agreement(vault, business.id, terms({GIVEN: "read", EMAIL: "read", PHONE: "read"}))
    at(clock, now)
    steady = "client:emc_steady"
    for days_ago in range(1, 21):
        moment = now - timedelta(days=days_ago)
        log(vault, clock, moment, business.id, clean, steady, [GIVEN, EMAIL, PHONE], times=10)
    # A refusal for another reason than the agreement's end is no "read after the end".
    log(vault, clock, now, business.id, clean, steady, [BIRTH], outcome="denied:not_granted")
    assert _flags(vault, clean) == []


def test_a_young_agreement_is_not_judged_for_unused_fields(
    vault: Vault, business: PortalBusiness, clock: Clock
) -> None:
    now = clock.now
    at(clock, now - timedelta(days=30))
    young = agreement(vault, business.id, terms({GIVEN: "read", EMAIL: "read"}))
    at(clock, now)
    assert _flags(vault, young) == []
