"""Properties of the text fields, and of every field, over generated input."""

import unicodedata

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from schemas.field_catalogue import FIELD_CATALOGUE, validate_field_value
from schemas.field_errors import FieldValueError

SHORT_TEXT_FIELDS = [
    "identity.given_name",
    "identity.family_name",
    "contact.region",
    "work.occupation",
    "work.employer",
    "work.job_title",
]
SHORTEST_LIMIT = 100

control_characters = st.characters(categories=["Cc", "Cf"])
visible_text = st.text(
    alphabet=st.characters(exclude_categories=["Cc", "Cf", "Cs", "Zl", "Zp"]),
    min_size=1,
    max_size=SHORTEST_LIMIT,
)


@given(
    key=st.sampled_from(SHORT_TEXT_FIELDS),
    before=st.text(max_size=20),
    control=control_characters,
    after=st.text(max_size=20),
)
def test_text_with_a_control_character_is_refused(
    key: str, before: str, control: str, after: str
) -> None:
    with pytest.raises(FieldValueError):
        validate_field_value(key, before + control + after)


@given(key=st.sampled_from(SHORT_TEXT_FIELDS), text=visible_text)
def test_valid_text_round_trips_to_its_stripped_nfc_form(key: str, text: str) -> None:
    expected = unicodedata.normalize("NFC", text).strip()
    assume(1 <= len(expected) <= SHORTEST_LIMIT)

    value = validate_field_value(key, text)

    assert value == expected
    assert validate_field_value(key, value) == value


@given(key=st.sampled_from(SHORT_TEXT_FIELDS), text=st.text(max_size=300))
def test_any_text_is_accepted_or_refused_with_a_message(key: str, text: str) -> None:
    try:
        validate_field_value(key, text)
    except FieldValueError as error:
        assert str(error)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)


@given(key=st.sampled_from(list(FIELD_CATALOGUE)), raw=json_values)
def test_any_json_input_is_accepted_or_refused_with_a_message(key: str, raw: object) -> None:
    try:
        validate_field_value(key, raw)
    except FieldValueError as error:
        assert all(problem.message for problem in error.problems)
