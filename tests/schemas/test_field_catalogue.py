"""The field catalogue: good values round-trip to one canonical form; every field reads well."""

# Azerbaijani and Turkish words are spelt with the dotless i (U+0131) on purpose.

import json
import unicodedata
from datetime import date
from decimal import Decimal

import pytest
from pydantic import TypeAdapter

from schemas.choice_labels import CHOICE_LABELS, choice_label
from schemas.field_catalogue import (
    FIELD_CATALOGUE,
    GROUP_LABELS,
    FieldGroup,
    FieldSpec,
    Sensitivity,
    field_spec,
    validate_field_value,
)
from schemas.field_values import (
    Address,
    LifeEventKind,
    MaritalStatus,
    PreferredChannel,
    PurchaseIntent,
)
from schemas.text_types import MultilineText
from tests.field_examples import GOOD_VALUES

LOCALES = ("en", "az", "tr")


@pytest.mark.parametrize("key", list(FIELD_CATALOGUE))
def test_good_value_round_trips_for_every_field(key: str) -> None:
    assert key in GOOD_VALUES, f"add a good example value for the new field {key!r}"
    raw, canonical = GOOD_VALUES[key]

    value = validate_field_value(key, raw)

    assert value == canonical
    assert json.loads(json.dumps(value)) == value
    # The canonical form is a fixed point: storing and re-validating changes nothing.
    assert validate_field_value(key, value) == value


def test_good_values_name_only_catalogue_fields() -> None:
    assert set(GOOD_VALUES) <= set(FIELD_CATALOGUE)


def test_catalogue_holds_the_agreed_fields_in_display_order() -> None:
    assert list(FIELD_CATALOGUE) == [
        "identity.given_name",
        "identity.family_name",
        "identity.birth_date",
        "contact.email",
        "contact.phone",
        "contact.address",
        "contact.region",
        "contact.preferred_channel",
        "work.occupation",
        "work.employer",
        "work.job_title",
        "preferences.interests",
        "preferences.brands",
        "household.marital_status",
        "household.children_birth_years",
        "life.events",
        "intent.purchases",
    ]


@pytest.mark.parametrize(
    ("key", "sensitivity"),
    [
        ("identity.given_name", Sensitivity.MEDIUM),
        ("identity.family_name", Sensitivity.MEDIUM),
        ("contact.email", Sensitivity.MEDIUM),
        ("contact.region", Sensitivity.MEDIUM),
        ("contact.preferred_channel", Sensitivity.MEDIUM),
        ("identity.birth_date", Sensitivity.HIGH),
        ("contact.phone", Sensitivity.HIGH),
        ("contact.address", Sensitivity.HIGH),
        ("household.marital_status", Sensitivity.HIGH),
        ("household.children_birth_years", Sensitivity.HIGH),
        ("life.events", Sensitivity.HIGH),
        ("intent.purchases", Sensitivity.HIGH),
        ("work.occupation", Sensitivity.LOW),
        ("work.employer", Sensitivity.LOW),
        ("work.job_title", Sensitivity.LOW),
        ("preferences.interests", Sensitivity.LOW),
        ("preferences.brands", Sensitivity.LOW),
    ],
)
def test_sensitivity(key: str, sensitivity: Sensitivity) -> None:
    assert field_spec(key).sensitivity is sensitivity


def test_address_is_in_the_address_group() -> None:
    assert field_spec("contact.address").group is FieldGroup.ADDRESS


def test_every_group_has_fields_and_labels() -> None:
    used = {spec.group for spec in FIELD_CATALOGUE.values()}
    assert used == set(FieldGroup)
    for group in FieldGroup:
        assert all(GROUP_LABELS[group][locale].strip() for locale in LOCALES)


@pytest.mark.parametrize("key", list(FIELD_CATALOGUE))
def test_every_field_has_labels_and_hints_in_every_locale(key: str) -> None:
    spec = FIELD_CATALOGUE[key]
    assert spec.key == key
    for locale in LOCALES:
        assert spec.labels[locale].strip(), (key, locale)
        assert spec.hints[locale].strip(), (key, locale)
        assert spec.label(locale) == spec.labels[locale]


@pytest.mark.parametrize("locale", ["az", "tr"])
def test_labels_are_translated_not_copied(locale: str) -> None:
    specs = list(FIELD_CATALOGUE.values())
    translated = [spec for spec in specs if spec.labels[locale] != spec.labels["en"]]
    assert len(translated) >= 0.8 * len(specs)
    assert all(spec.hints[locale] != spec.hints["en"] for spec in specs)


def test_label_falls_back_to_the_language_and_then_to_english() -> None:
    spec = field_spec("identity.family_name")
    assert spec.label("tr_TR") == "Soyadı"
    assert spec.label("az-Latn-AZ") == "Soyad"
    assert spec.label("de") == "Family name"
    assert spec.hint("fr") == spec.hints["en"]


@pytest.mark.parametrize("choice", [*PreferredChannel, *MaritalStatus, *LifeEventKind], ids=str)
def test_every_choice_has_a_label_in_every_locale(choice: object) -> None:
    assert all(CHOICE_LABELS[choice][locale].strip() for locale in LOCALES)
    assert choice_label(choice, "de") == CHOICE_LABELS[choice]["en"]


def test_spec_is_frozen_and_hashable() -> None:
    spec = field_spec("contact.phone")
    assert isinstance(spec, FieldSpec)
    with pytest.raises(AttributeError):
        spec.key = "contact.fax"  # type: ignore[misc]
    with pytest.raises(TypeError):
        spec.labels["en"] = "Fax"  # type: ignore[index]
    assert {spec: 1}[spec] == 1


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        ("+994 50 123 45 67", "+994501234567"),
        ("+994-50-123-45-67", "+994501234567"),
        ("+90 (532) 123 45 67", "+905321234567"),
        (" +44 20 7946 0958 ", "+442079460958"),
    ],
)
def test_phone_is_stored_as_e164(raw: str, canonical: str) -> None:
    assert validate_field_value("contact.phone", raw) == canonical


def test_email_domain_is_lower_cased_and_local_part_kept() -> None:
    assert validate_field_value("contact.email", " Ali.Veli@MAIL.Example.COM ") == (
        "Ali.Veli@mail.example.com"
    )


def test_email_with_international_domain_is_kept_readable() -> None:
    assert validate_field_value("contact.email", "ali@BAKI.az") == "ali@baki.az"


def test_tags_are_deduplicated_case_insensitively_keeping_the_first() -> None:
    value = validate_field_value("preferences.interests", ["Jazz", " jazz ", "Cycling", "JAZZ"])
    assert value == ["Jazz", "Cycling"]


def test_tags_from_a_comma_separated_string_skip_blank_pieces() -> None:
    assert validate_field_value("preferences.interests", ", caz,, kino ,") == ["caz", "kino"]


def test_brands_keep_commas_when_sent_as_a_list() -> None:
    assert validate_field_value("preferences.brands", ["Procter & Gamble, Inc."]) == [
        "Procter & Gamble, Inc."
    ]


def test_text_is_nfc_normalised() -> None:
    decomposed = unicodedata.normalize("NFD", "Gülər Şükürova")
    assert decomposed != "Gülər Şükürova"
    assert validate_field_value("identity.family_name", decomposed) == "Gülər Şükürova"


def test_text_may_use_any_script() -> None:
    for name in ("Ağa", "Ömer", "Ирина", "أحمد", "李小龍", "Ōtani", "O'Brien-Smith"):
        assert validate_field_value("identity.given_name", name) == name


def test_postal_code_is_optional_and_missing_one_is_null() -> None:
    value = validate_field_value(
        "contact.address", {"street": "Sheikh Zayed Rd 1", "city": "Dubai", "country": "ae"}
    )
    assert value == {
        "street": "Sheikh Zayed Rd 1",
        "city": "Dubai",
        "postal_code": None,
        "country": "AE",
    }


def test_address_model_instance_is_accepted() -> None:
    address = Address(street="İstiklal Cd. 5", city="İstanbul", postal_code="34433", country="TR")
    assert validate_field_value("contact.address", address)["country"] == "TR"


@pytest.mark.parametrize(
    ("budget", "canonical"),
    [
        ("1500", "1500"),
        ("1500.5", "1500.50"),
        ("1500.50", "1500.50"),
        ("1500.00", "1500"),
        ("1E+3", "1000"),
        (Decimal("0.01"), "0.01"),
        (250, "250"),
        ("999999999999.99", "999999999999.99"),
    ],
)
def test_budget_has_one_canonical_spelling(budget: object, canonical: str) -> None:
    value = validate_field_value(
        "intent.purchases", [{"what": "Kitab", "budget": budget, "currency": "TRY"}]
    )
    assert value == [{"what": "Kitab", "by": None, "budget": canonical, "currency": "TRY"}]


def test_purchase_deadline_may_be_in_the_past_or_far_ahead() -> None:
    for by in ("1900-01-01", "2001-01-01", "2150-12-31"):
        assert PurchaseIntent(what="Ev", by=by, budget="1", currency="EUR").by.isoformat() == by


def test_birth_date_accepts_a_date_object_and_today() -> None:
    assert validate_field_value("identity.birth_date", date(1900, 1, 1)) == "1900-01-01"
    today = date.today().isoformat()
    assert validate_field_value("identity.birth_date", today) == today


def test_children_birth_years_may_be_empty_and_accept_digit_strings() -> None:
    assert validate_field_value("household.children_birth_years", []) == []
    assert validate_field_value("household.children_birth_years", ["1900", 2001]) == [1900, 2001]


def test_multiline_text_keeps_lines_and_tabs_and_unifies_line_breaks() -> None:
    adapter = TypeAdapter(MultilineText)
    assert adapter.validate_python("  Zəng etdi.\r\n\tSifariş: 2 ədəd\r\n") == (
        "Zəng etdi.\n\tSifariş: 2 ədəd"
    )
