"""Bad field values are refused with a message that says what is wrong and how to fix it."""

# Azerbaijani and Turkish words are spelt with the dotless i (U+0131) on purpose.

import pickle
from datetime import date, datetime, timedelta

import pytest
from pydantic import TypeAdapter, ValidationError

from schemas.field_catalogue import field_spec, validate_field_value
from schemas.field_errors import (
    FieldProblem,
    FieldValueError,
    UnknownFieldError,
    problems_from_validation_error,
)
from schemas.text_types import CountryCode, CurrencyCode, MultilineText, Tag

FUTURE = (date.today() + timedelta(days=3)).isoformat()
NEXT_YEAR_BUT_ONE = date.today().year + 2
PURCHASE = {"what": "Avtomobil", "budget": "20000", "currency": "AZN"}
ADDRESS = {"street": "Nizami küç. 10", "city": "Bakı", "postal_code": "AZ1000", "country": "AZ"}

# (field key, bad raw value, a phrase the message must contain, or "" for any message)
BAD_VALUES: list[tuple[str, object, str]] = [
    # short text
    ("identity.given_name", 42, "write it as text"),
    ("identity.given_name", None, "write it as text"),
    ("identity.given_name", ["Ali"], "write it as text"),
    ("identity.given_name", b"Ali", "write it as text"),
    ("identity.given_name", "", "required"),
    ("identity.given_name", " \u3000 ", "required"),
    ("identity.given_name", "A" * 101, "at most 100 characters"),
    ("work.job_title", "A" * 201, "at most 200 characters"),
    ("identity.given_name", "Ali\x00", "control character (U+0000)"),
    ("identity.given_name", "Ali\u202e", "control character (U+202E)"),
    ("identity.family_name", "\u200bVəliyev", "control character"),
    ("identity.family_name", "Ali\ud800", "control character"),
    ("identity.family_name", "Ali\tVəli", "control character"),
    ("identity.family_name", "Ali\nVəli", "single line"),
    ("contact.region", "Bakı\u2028Sumqayıt", "single line"),
    # dates
    ("identity.birth_date", "2023-02-30", "no such day"),
    ("identity.birth_date", "2023-13-01", "no such day"),
    ("identity.birth_date", "1899-12-31", "before 1900-01-01"),
    ("identity.birth_date", date(1899, 12, 31), "before 1900-01-01"),
    ("identity.birth_date", FUTURE, "in the future"),
    ("identity.birth_date", {"year": 1990}, "YYYY-MM-DD"),
    ("identity.birth_date", "21.04.1990", "YYYY-MM-DD"),
    ("identity.birth_date", "19900421", "YYYY-MM-DD"),
    ("identity.birth_date", "1990-W16-6", "YYYY-MM-DD"),
    ("identity.birth_date", 640656000, "YYYY-MM-DD"),
    ("identity.birth_date", True, "YYYY-MM-DD"),
    ("identity.birth_date", "1990-04-21T10:30:00", "time of day"),
    ("identity.birth_date", "1990-04-21 00:00", "time of day"),
    ("identity.birth_date", datetime(1990, 4, 21, 10, 30), "time of day"),
    # e-mail
    ("contact.email", "not-an-email", "name@example.com"),
    ("contact.email", "a@", "name@example.com"),
    ("contact.email", "a@b@c.az", "name@example.com"),
    ("contact.email", "ali@localhost", "name@example.com"),
    ("contact.email", "", "name@example.com"),
    ("contact.email", 42, "write it as text"),
    # phone
    ("contact.phone", "12345", "+ and the country code"),
    ("contact.phone", "+99450", "+ and the country code"),
    ("contact.phone", "0501234567", "+ and the country code"),
    ("contact.phone", "+994 12", "+ and the country code"),
    ("contact.phone", "+abc", "+ and the country code"),
    ("contact.phone", "+994 50 123 45 67 ext. 12", "extension"),
    ("contact.phone", 994501234567, "write it as text"),
    # address and country
    ("contact.address", {**ADDRESS, "country": "XX"}, "two-letter ISO 3166"),
    ("contact.address", {**ADDRESS, "country": "Azerbaijan"}, "two-letter ISO 3166"),
    ("contact.address", {**ADDRESS, "country": "az0"}, "two-letter ISO 3166"),
    ("contact.address", {**ADDRESS, "country": "ZZ"}, "two-letter ISO 3166"),
    ("contact.address", {**ADDRESS, "country": "EU"}, "two-letter ISO 3166"),
    ("contact.address", {**ADDRESS, "floor": 3}, "Unknown part 'floor'"),
    ("contact.address", {"street": "Nizami küç. 10", "country": "AZ"}, "This is required"),
    ("contact.address", {**ADDRESS, "postal_code": "AZ@1000"}, "letters, digits, spaces"),
    ("contact.address", {**ADDRESS, "postal_code": "-"}, "letters, digits, spaces"),
    ("contact.address", {**ADDRESS, "postal_code": "1" * 21}, "at most 20 characters"),
    ("contact.address", {**ADDRESS, "street": "x" * 201}, "at most 200 characters"),
    ("contact.address", "Nizami küç. 10, Bakı", "object with named parts"),
    ("contact.address", ["Nizami küç. 10"], "object with named parts"),
    # choices
    ("contact.preferred_channel", "fax", "Choose one of: email, sms, phone, post, vault_inbox"),
    ("contact.preferred_channel", 1, "Choose one of"),
    ("household.marital_status", "complicated", "Choose one of: single, married"),
    # tags and brands
    ("preferences.interests", "", "at least 1 item"),
    ("preferences.interests", " , ,", "at least 1 item"),
    ("preferences.interests", [], "at least 1 item"),
    ("preferences.interests", [f"tag{i}" for i in range(51)], "at most 50"),
    ("preferences.interests", ["x" * 41], "at most 40 characters"),
    ("preferences.interests", ["caz, kino"], "cannot contain a comma"),
    ("preferences.interests", ["caz\x07"], "control character"),
    ("preferences.interests", {"caz": True}, "list"),
    ("preferences.interests", [1], "write it as text"),
    ("preferences.brands", ["B" * 101], "at most 100 characters"),
    ("preferences.brands", [], "at least 1 item"),
    # years
    ("household.children_birth_years", [True], "four digits"),
    ("household.children_birth_years", ["abc"], "four digits"),
    ("household.children_birth_years", [2012.0], "four digits"),
    ("household.children_birth_years", ["٢٠١٢"], "four digits"),
    ("household.children_birth_years", [1899], "from 1900"),
    ("household.children_birth_years", [NEXT_YEAR_BUT_ONE], "from 1900"),
    ("household.children_birth_years", list(range(2000, 2021)), "at most 20"),
    ("household.children_birth_years", 2012, "list"),
    # life events
    ("life.events", [], "at least 1 item"),
    ("life.events", [{"kind": "lottery", "date": "2020-01-01"}], "Choose one of"),
    ("life.events", [{"kind": "marriage"}], "This is required"),
    ("life.events", [{"kind": "marriage", "date": FUTURE}], "in the future"),
    ("life.events", [{"kind": "child", "date": "1899-12-31"}], "before 1900-01-01"),
    ("life.events", [{"kind": "child", "date": "2020-01-01", "where": "Bakı"}], "Unknown part"),
    ("life.events", [{"kind": "marriage", "date": "2020-01-01"}] * 101, "at most 100"),
    # purchase intentions, amounts and currencies
    ("intent.purchases", [], "at least 1 item"),
    ("intent.purchases", [{**PURCHASE, "budget": "0"}], "greater than 0"),
    ("intent.purchases", [{**PURCHASE, "budget": -5}], "greater than 0"),
    ("intent.purchases", [{**PURCHASE, "budget": "1.234"}], "at most 2 digits after the dot"),
    ("intent.purchases", [{**PURCHASE, "budget": "1e12"}], "less than 1,000,000,000,000"),
    ("intent.purchases", [{**PURCHASE, "budget": "1,500"}], "for example 1500.50"),
    ("intent.purchases", [{**PURCHASE, "budget": "NaN"}], "for example 1500.50"),
    ("intent.purchases", [{**PURCHASE, "budget": True}], "for example 1500.50"),
    ("intent.purchases", [{**PURCHASE, "currency": "XYZ"}], "ISO 4217"),
    ("intent.purchases", [{**PURCHASE, "currency": "TRL"}], "ISO 4217"),
    ("intent.purchases", [{**PURCHASE, "currency": "manat"}], "ISO 4217"),
    ("intent.purchases", [{**PURCHASE, "currency": "XAU"}], "ISO 4217"),
    ("intent.purchases", [{**PURCHASE, "by": "2027-02-30"}], "no such day"),
    ("intent.purchases", [{**PURCHASE, "what": ""}], "required"),
    ("intent.purchases", [{**PURCHASE, "shop": "Bazar"}], "Unknown part 'shop'"),
    ("intent.purchases", [{"what": "Ev"}], "This is required"),
]


@pytest.mark.parametrize(
    ("key", "raw", "phrase"), BAD_VALUES, ids=[f"{k}-{i}" for i, (k, _, _) in enumerate(BAD_VALUES)]
)
def test_bad_value_is_refused_with_a_helpful_message(key: str, raw: object, phrase: str) -> None:
    with pytest.raises(FieldValueError) as caught:
        validate_field_value(key, raw)

    error = caught.value
    assert error.field_key == key
    assert error.problems
    assert all(problem.message.strip() and problem.code for problem in error.problems)
    assert str(error).startswith(key)
    assert phrase in str(error)


def test_message_points_at_the_part_that_is_wrong() -> None:
    with pytest.raises(FieldValueError) as caught:
        validate_field_value("intent.purchases", [PURCHASE, {**PURCHASE, "budget": "0"}])

    assert caught.value.problems == (
        FieldProblem(
            loc=(1, "budget"),
            code="greater_than",
            message="Too small: use a number greater than 0.",
        ),
    )
    assert str(caught.value) == (
        "intent.purchases[1].budget: Too small: use a number greater than 0."
    )


def test_every_problem_is_reported_at_once() -> None:
    with pytest.raises(FieldValueError) as caught:
        validate_field_value("contact.address", {"street": "", "city": "Bakı", "country": "XX"})

    assert [(p.loc, p.code) for p in caught.value.problems] == [
        (("street",), "text_required"),
        (("country",), "country_unknown"),
    ]


def test_custom_codes_are_stable() -> None:
    codes = {
        ("contact.phone", "+99450"): "phone_invalid",
        ("contact.phone", "0501234567"): "phone_country_code_missing",
        ("contact.email", "a@"): "email_invalid",
        ("identity.birth_date", "2023-02-30"): "date_impossible",
        ("identity.birth_date", FUTURE): "date_in_future",
        ("identity.given_name", "Ali\x00"): "text_control_character",
        ("identity.given_name", "x" * 101): "text_too_long",
    }
    for (key, raw), code in codes.items():
        with pytest.raises(FieldValueError) as caught:
            validate_field_value(key, raw)
        assert [problem.code for problem in caught.value.problems] == [code]


@pytest.mark.parametrize("key", ["contact.fax", "", "CONTACT.EMAIL", "contact.email "])
def test_unknown_field_key_is_refused(key: str) -> None:
    with pytest.raises(UnknownFieldError) as caught:
        validate_field_value(key, "x")
    assert caught.value.field_key == key
    assert str(caught.value).startswith(f"Unknown field '{key}'. Known fields: ")
    assert "contact.email" in str(caught.value)
    with pytest.raises(KeyError):
        field_spec(key)


@pytest.mark.parametrize(
    ("annotated", "raw", "phrase"),
    [
        (CountryCode, "Azərbaycan", "ISO 3166"),
        (CurrencyCode, "AZM", "ISO 4217"),
        (Tag, "", "required"),
        (MultilineText, "x" * 5001, "at most 5000 characters"),
        (MultilineText, "Qeyd\x00", "control character"),
        (MultilineText, "Qeyd\u202e", "control character"),
    ],
)
def test_text_types_alone(annotated: object, raw: object, phrase: str) -> None:
    with pytest.raises(ValidationError) as caught:
        TypeAdapter(annotated).validate_python(raw)
    (problem,) = problems_from_validation_error(caught.value)
    assert phrase in problem.message


def test_errors_survive_pickling() -> None:
    with pytest.raises(FieldValueError) as bad_value:
        validate_field_value("contact.phone", "+99450")
    with pytest.raises(UnknownFieldError) as unknown:
        field_spec("contact.fax")

    for error in (bad_value.value, unknown.value):
        copy = pickle.loads(pickle.dumps(error))
        assert type(copy) is type(error)
        assert str(copy) == str(error)
