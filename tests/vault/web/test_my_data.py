"""My data: every field grouped and readable, edited through the page, its history, who sees it."""

from __future__ import annotations

import json
import re
import uuid
from datetime import timedelta
from html import unescape
from html.parser import HTMLParser

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from schemas.field_catalogue import FIELD_CATALOGUE, GROUP_LABELS, FieldGroup, validate_field_value
from schemas.field_errors import FieldProblem, FieldValueError
from tests.factories import make_active_agreement, make_business
from tests.field_examples import GOOD_VALUES
from tests.vault.web.conftest import csrf_token
from vault.agreements.models import Agreement
from vault.agreements.services import Context, restrict_agreement, revoke_agreement
from vault.outbox.models import OutboxEvent
from vault.profile.services import field_history, get_field, write_fields
from vault.profile_problems import _PROBLEM_DETAILS, problem_message
from vault.unit_of_work import Vault

XSS = ["<script>alert(1)</script>", '"><img src=x onerror=alert(1)>']


class _Forms(HTMLParser):
    """Collect what a browser would submit from each form of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict[str, str]] = []
        self._form: dict[str, str] | None = None
        self._select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self._form = {}
            self.forms.append(self._form)
        elif self._form is None:
            return
        elif tag == "input" and a.get("name"):
            self._form[a["name"]] = a.get("value", "")
        elif tag == "select":
            self._select = a["name"]
        elif (
            tag == "option" and self._select and (self._select not in self._form or "selected" in a)
        ):
            self._form[self._select] = a.get("value", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None


def page_form(html: str) -> dict[str, str]:
    """Return the inputs of the page's own form (the one with a submit input)."""
    parser = _Forms()
    parser.feed(html)
    return next(form for form in parser.forms if "submit" in form)


def submit(client: FlaskClient, url: str, changes: dict[str, str] | None = None):
    """Open a form page, change some inputs, and submit it as the browser would."""
    page = client.get(url)
    assert page.status_code == 200, page.get_data(as_text=True)
    data = {**page_form(page.get_data(as_text=True)), **(changes or {})}
    return client.post(url, data=data)


def message_beside(html: str, input_id: str) -> str:
    """Return the text of the message linked to an input, checking the link is there."""
    assert re.search(rf'aria-describedby="{input_id}-help"[^>]*id="{input_id}"', html) or re.search(
        rf'id="{input_id}"[^>]*aria-describedby="{input_id}-help"', html
    ), f"{input_id} is not linked to its message"
    found = re.search(rf'<p class="help" id="{input_id}-help">(.*?)</p>', html, re.S)
    assert found, f"no message beside {input_id}"
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", found.group(1))).split())


def versions(vault: Vault, customer_id: uuid.UUID, key: str) -> int:
    with vault.unit_of_work(write=False) as uow:
        return len(field_history(uow, customer_id, key))


def stored(vault: Vault, customer_id: uuid.UUID, key: str) -> object:
    with vault.unit_of_work(write=False) as uow:
        found = get_field(uow, customer_id, key)
        return None if found is None else found.value


def outbox(vault: Vault) -> list[OutboxEvent]:
    with vault.unit_of_work(write=False) as uow:
        events = uow.session.scalars(select(OutboxEvent).order_by(OutboxEvent.seq)).all()
        uow.session.expunge_all()
        return list(events)


@pytest.mark.parametrize(
    "path", ["/data", "/data/contact.email/edit", "/data/contact.email/history"]
)
def test_pages_need_a_signed_in_customer(client, path):
    answer = client.get(path)
    assert answer.status_code == 303
    assert answer.headers["Location"].startswith("/login")


def test_changes_need_a_signed_in_customer(client, vault):
    token = csrf_token(client.get("/login").get_data(as_text=True))
    for path in ("/data/contact.email/edit", "/data/contact.email/delete"):
        answer = client.post(path, data={"csrf_token": token, "value": "a@example.org"})
        assert answer.status_code == 303
        assert answer.headers["Location"].startswith("/login")
    assert outbox(vault) == []


@pytest.mark.parametrize("action", ["edit", "history", "delete"])
def test_a_field_outside_the_catalogue_is_not_found(client, signed_in, action):
    signed_in()
    assert client.get(f"/data/contact.shoe_size/{action}").status_code == 404


def test_every_field_shows_grouped_and_formatted_for_people(client, signed_in):
    signed_in(profile={key: raw for key, (raw, _) in GOOD_VALUES.items()})
    html = client.get("/data").get_data(as_text=True)
    headings = re.findall(r"<h2[^>]*>(.*?)</h2>", html)
    assert headings == [unescape(GROUP_LABELS[g]["en"]) for g in FieldGroup]
    positions = [html.index(f'id="field-{key.replace(".", "-")}"') for key in FIELD_CATALOGUE]
    for spec in FIELD_CATALOGUE.values():
        assert f"<h3>{spec.label('en')}</h3>".replace("'", "&#39;") in html
    assert len(positions) == len(set(positions)) == 17
    assert "April 21, 1990" in html  # a date as people write it
    assert "+994 50 123 45 67" in html  # the phone number spaced out
    assert "My Emanet inbox" in html and "Married" in html  # choices by their label
    assert "Nizami küç. 10, m. 5<br>AZ 1000 Bakı<br>Azerbaijan" in html  # address on lines
    assert "<li>caz</li><li>Velosiped</li>" in html  # lists as lists
    assert "<li>Moving house, May 1, 2024</li>" in html
    assert "Avtomobil, by June 1, 2027, budget AZN20,000.50" in html
    assert "17 of 17 fields filled in." in html


def test_dates_choices_and_countries_follow_the_page_language(client, signed_in):
    signed_in(profile={key: raw for key, (raw, _) in GOOD_VALUES.items()})
    az = client.get("/data?lang=az").get_data(as_text=True)
    assert "21 aprel 1990" in az and "Evli" in az and "Azərbaycan" in az
    assert "Şəxsi məlumatlar" in az  # the group's label
    tr = client.get("/data?lang=tr").get_data(as_text=True)
    assert "21 Nisan 1990" in tr and "Evli" in tr and "Azerbaycan" in tr
    assert "Kimlik bilgileri" in tr
    assert "20.000,50" in tr  # the budget written as Turkish readers write amounts


def test_an_empty_vault_offers_to_add_every_field(client, signed_in):
    signed_in()
    html = client.get("/data").get_data(as_text=True)
    assert html.count("Not filled in") == len(FIELD_CATALOGUE)
    assert html.count(">Add<") == len(FIELD_CATALOGUE)
    assert "/delete" not in html


# (field, changes to the form, canonical value stored, page language)
ROUND_TRIPS = [
    ("identity.given_name", {"value": "  Aysel "}, "Aysel", "en"),
    ("contact.email", {"value": "Aysel@Example.AZ"}, "Aysel@example.az", "en"),
    ("contact.phone", {"value": "+994 50 123 45 67"}, "+994501234567", "en"),
    ("identity.birth_date", {"value": "1990-04-21"}, "1990-04-21", "en"),
    ("household.marital_status", {"value": "married"}, "married", "az"),
    (
        "contact.address",
        {"street": "Nizami küç. 10", "city": "Bakı", "postal_code": "az 1000", "country": "AZ"},
        {"street": "Nizami küç. 10", "city": "Bakı", "postal_code": "AZ 1000", "country": "AZ"},
        "az",
    ),
    ("preferences.interests", {"value": "caz, velosiped, , CAZ"}, ["caz", "velosiped"], "en"),
    ("preferences.brands", {"value": "Azersun, Koton"}, ["Azersun", "Koton"], "tr"),
    ("household.children_birth_years", {"value": "2012, 2015, 2015"}, [2012, 2015, 2015], "en"),
    ("household.children_birth_years", {"value": ""}, [], "en"),
    (
        "life.events",
        {
            "rows-0-kind": "moving_house",
            "rows-0-date": "2024-05-01",
            "rows-2-kind": "marriage",
            "rows-2-date": "2019-08-10",
        },
        [
            {"kind": "moving_house", "date": "2024-05-01"},
            {"kind": "marriage", "date": "2019-08-10"},
        ],
        "en",
    ),
    (
        "intent.purchases",
        {
            "rows-0-what": "Divan",
            "rows-0-budget": "1.500,50",
            "rows-0-currency": "AZN",
            "rows-1-currency": "TRY",  # a currency alone does not make a row
            "rows-2-what": "Soyuducu",
            "rows-2-by": "2027-01-31",
            "rows-2-budget": "900",
            "rows-2-currency": "TRY",
        },
        [
            {"what": "Divan", "by": None, "budget": "1500.50", "currency": "AZN"},
            {"what": "Soyuducu", "by": "2027-01-31", "budget": "900", "currency": "TRY"},
        ],
        "tr",
    ),
    (
        "intent.purchases",
        {"rows-0-what": "Car", "rows-0-budget": "20,000.5", "rows-0-currency": "EUR"},
        [{"what": "Car", "by": None, "budget": "20000.50", "currency": "EUR"}],
        "en",
    ),
]


@pytest.mark.parametrize(("key", "changes", "expected", "lang"), ROUND_TRIPS)
def test_each_kind_of_field_round_trips_through_its_page(
    client, signed_in, vault, key, changes, expected, lang
):
    customer_id = signed_in()
    url = f"/data/{key}/edit?lang={lang}"
    answer = submit(client, url, changes)
    assert answer.status_code == 303, answer.get_data(as_text=True)
    # Back to the field on the list, in the same language, with word of what happened there.
    assert answer.headers["Location"] == f"/data?lang={lang}#field-" + key.replace(".", "-")
    assert stored(vault, customer_id, key) == expected
    assert versions(vault, customer_id, key) == 1
    # The page shows the stored value in its inputs; sent back untouched, it changes nothing.
    again = submit(client, url)
    assert again.status_code == 303
    assert versions(vault, customer_id, key) == 1
    listing = client.get(again.headers["Location"]).get_data(as_text=True)
    item = listing[listing.index(f'id="field-{key.replace(".", "-")}"') :]
    assert '<p class="data-told">' in item[: item.index("</li>")]


def test_a_cleared_row_is_removed_and_blank_rows_are_offered(client, signed_in, vault):
    events = [
        {"kind": "moving_house", "date": "2024-05-01"},
        {"kind": "new_job", "date": "2023-02-01"},
    ]
    customer_id = signed_in(profile={"life.events": events})
    form = page_form(client.get("/data/life.events/edit").get_data(as_text=True))
    assert sorted(k for k in form if k.endswith("-kind")) == [f"rows-{i}-kind" for i in range(5)]
    assert form["rows-1-kind"] == "new_job" and form["rows-4-date"] == ""
    answer = submit(client, "/data/life.events/edit", {"rows-0-kind": "", "rows-0-date": ""})
    assert answer.status_code == 303
    assert stored(vault, customer_id, "life.events") == [events[1]]


# (field, changes, the input the message belongs beside, words of the message, form kept)
BAD_VALUES = [
    ("identity.given_name", {"value": "   "}, "value", "This is required.", {}),
    ("contact.email", {"value": "aysel"}, "value", "not a valid e-mail address", {}),
    ("contact.phone", {"value": "050 123 45 67"}, "value", "country code is missing", {}),
    ("identity.birth_date", {"value": "2999-01-01"}, "value", "in the future", {}),
    ("household.marital_status", {"value": "polygamous"}, "value", "Choose one of the", {}),
    (
        "contact.address",
        {"street": "Nizami 10", "city": "Bakı", "postal_code": "AZ#1000", "country": ""},
        "postal_code",
        "letters, digits, spaces and dashes",
        {"street": "Nizami 10", "postal_code": "AZ#1000"},
    ),
    (
        "contact.address",
        {"street": "Nizami 10", "city": "Bakı", "country": ""},
        "country",
        "This is required.",
        {"street": "Nizami 10", "city": "Bakı"},
    ),
    ("preferences.interests", {"value": ""}, "value", "Add at least one.", {}),
    (
        "preferences.interests",
        {"value": "caz, " + "x" * 41},
        "value",
        f"“{'x' * 41}”: Too long: use at most 40 characters.",
        {"value": "caz, " + "x" * 41},
    ),
    (
        "household.children_birth_years",
        {"value": "2012, abc"},
        "value",
        "“abc”: Not a year.",
        {"value": "2012, abc"},
    ),
    (
        "life.events",
        {"rows-0-kind": "child", "rows-0-date": "2020-01-01", "rows-2-kind": "marriage"},
        "rows-2-date",
        "This is required.",
        {"rows-0-kind": "child", "rows-0-date": "2020-01-01", "rows-2-kind": "marriage"},
    ),
    (
        "intent.purchases",
        {"rows-1-what": "Divan", "rows-1-budget": "a lot", "rows-1-currency": "AZN"},
        "rows-1-budget",
        "Not a number.",
        {"rows-1-what": "Divan", "rows-1-budget": "a lot", "rows-1-currency": "AZN"},
    ),
    (
        "intent.purchases",
        {"rows-0-what": "Ev", "rows-0-budget": "10000000000000", "rows-0-currency": "AZN"},
        "rows-0-budget",
        "Too large: use a number less than 1,000,000,000,000.",
        {},
    ),
]


@pytest.mark.parametrize(("key", "changes", "input_id", "words", "kept"), BAD_VALUES)
def test_a_bad_value_shows_its_message_beside_the_input_and_stores_nothing(
    client, signed_in, vault, key, changes, input_id, words, kept
):
    customer_id = signed_in()
    answer = submit(client, f"/data/{key}/edit", changes)
    html = answer.get_data(as_text=True)
    assert answer.status_code == 200
    assert words in message_beside(html, input_id)
    form = page_form(html)
    for name, value in kept.items():
        assert form[name] == value  # the person's input is still there
    assert versions(vault, customer_id, key) == 0
    assert outbox(vault) == []


def test_a_bad_value_leaves_the_stored_one_as_it_was(client, signed_in, vault):
    customer_id = signed_in(profile={"identity.birth_date": "1990-04-21"})
    answer = submit(client, "/data/identity.birth_date/edit", {"value": "1990-02-30"})
    html = answer.get_data(as_text=True)
    assert "There is no such day as 1990-02-30." in message_beside(html, "value")
    assert stored(vault, customer_id, "identity.birth_date") == "1990-04-21"
    assert versions(vault, customer_id, "identity.birth_date") == 1


def test_numbers_in_messages_follow_the_page_language(client, signed_in):
    signed_in()
    changes = {"rows-0-what": "Ev", "rows-0-budget": "10000000000000", "rows-0-currency": "AZN"}
    html = submit(client, "/data/intent.purchases/edit?lang=az", changes).get_data(as_text=True)
    assert "1.000.000.000.000" in message_beside(html, "rows-0-budget")


def test_a_problem_without_a_translation_keeps_its_english_message(app):
    with app.test_request_context("/?lang=az"):
        odd = FieldProblem((), "something_new", "Something new is wrong.")
        assert problem_message(odd) == "Something new is wrong."
        worded = FieldProblem((), "text_too_long", "Too long: use at most 1000 characters.")
        translated = problem_message(worded)
        assert "1.000" in translated and "characters" not in translated


# A raw value per code whose message carries a detail (a limit, a date, a character).
DETAILED = {
    "text_too_long": ("identity.given_name", "x" * 101),
    "text_control_character": ("work.occupation", "a\u202eb"),
    "date_impossible": ("identity.birth_date", "1990-02-30"),
    "year_out_of_range": ("household.children_birth_years", "1800"),
    "too_short": ("preferences.interests", ""),
    "too_long": ("preferences.interests", ",".join(f"t{i}" for i in range(51))),
    "decimal_max_places": (
        "intent.purchases",
        [{"what": "a", "budget": "1.234", "currency": "AZN"}],
    ),
    "greater_than": ("intent.purchases", [{"what": "a", "budget": "0", "currency": "AZN"}]),
    "less_than": ("intent.purchases", [{"what": "a", "budget": "1e13", "currency": "AZN"}]),
}


def test_the_details_of_every_worded_problem_are_found_in_the_schemas_english(app):
    # If the schemas reword a message, its translation must not quietly fall back to English.
    assert set(DETAILED) == set(_PROBLEM_DETAILS)
    for code, (key, raw) in DETAILED.items():
        with pytest.raises(FieldValueError) as caught:
            validate_field_value(key, raw)
        problem = next(p for p in caught.value.problems if p.code == code)
        assert _PROBLEM_DETAILS[code].search(problem.message), code
        with app.test_request_context("/?lang=tr"):
            assert "%(" not in problem_message(problem)


def test_another_customers_data_never_shows(client, signed_in, vault):
    other = signed_in(email="other@example.az", profile={"identity.given_name": "Leyla"})
    business_id, _ = make_business(vault, name="Leylanın Dükanı")
    make_active_agreement(vault, business_id, other, {"identity.given_name": "read"})
    with vault.unit_of_work() as uow:
        write_fields(uow, other, {"identity.given_name": "Leyla Secret"}, actor="customer")
        uow.commit()
    client.post("/logout", data={})  # whether or not it works, signing in again replaces it
    me = signed_in(email="me@example.az")
    pages = ["/data"] + [
        f"/data/{key}/{page}" for key in FIELD_CATALOGUE for page in ("edit", "history")
    ]
    for path in pages:
        html = client.get(path).get_data(as_text=True)
        assert "Leyla" not in html, path
    assert versions(vault, me, "identity.given_name") == 0
    assert client.get("/data/identity.given_name/delete").status_code == 303  # nothing to delete


def test_history_lists_every_version_newest_first_with_deletions(client, signed_in, vault):
    customer_id = signed_in()
    for name in ("Aysel", "Ayselə"):
        assert submit(client, "/data/identity.given_name/edit", {"value": name}).status_code == 303
    assert submit(client, "/data/identity.given_name/delete").status_code == 303
    business_id, _ = make_business(vault, name="Bakı Kitab Evi")
    make_active_agreement(vault, business_id, customer_id, {"identity.given_name": "write"})
    with vault.unit_of_work() as uow:
        write_fields(
            uow, customer_id, {"identity.given_name": "Aysu"}, actor=f"business:{business_id}"
        )
        uow.commit()
    html = client.get("/data/identity.given_name/history").get_data(as_text=True)
    cells = [
        " ".join(unescape(re.sub(r"<[^>]+>", " ", row)).split())
        for row in re.findall(r"<tr[^>]*>(.*?)</tr>", html, re.S)[1:]
    ]
    assert len(cells) == 4
    assert cells[0].endswith("Aysu Bakı Kitab Evi")
    assert cells[1].endswith("Deleted You")
    assert cells[2].endswith("Ayselə You")
    assert cells[3].endswith("Aysel You")
    assert '<th scope="col">' in html and "<time datetime=" in html


def test_deleting_asks_first_then_keeps_the_deletion_in_history(client, signed_in, vault):
    customer_id = signed_in(profile={"work.employer": "Azersun"})
    page = client.get("/data/work.employer/delete")
    assert page.status_code == 200 and "Azersun" in page.get_data(as_text=True)
    assert stored(vault, customer_id, "work.employer") == "Azersun"  # asking changes nothing
    assert client.post("/data/work.employer/delete", data={}).status_code == 400  # no CSRF token
    answer = submit(client, "/data/work.employer/delete")
    assert answer.status_code == 303
    assert stored(vault, customer_id, "work.employer") is None
    with vault.unit_of_work(write=False) as uow:
        newest = field_history(uow, customer_id, "work.employer")[0]
    assert newest.deleted
    assert "Not filled in" in client.get("/data").get_data(as_text=True)


def test_each_field_shows_which_businesses_can_see_it_now(client, signed_in, vault):
    customer_id = signed_in(profile={"identity.given_name": "Aysel"})
    context = Context(actor="customer")
    reader, _ = make_business(vault, name="Oxucu MMC")
    paused, _ = make_business(vault, name="Dayandırılmış MMC")
    revoked, _ = make_business(vault, name="Ləğv MMC")
    expired, _ = make_business(vault, name="Köhnə MMC")
    active_id = make_active_agreement(
        vault, reader, customer_id, {"identity.given_name": "read", "contact.email": "write"}
    )
    paused_id = make_active_agreement(vault, paused, customer_id, {"identity.given_name": "read"})
    revoked_id = make_active_agreement(vault, revoked, customer_id, {"identity.given_name": "read"})
    expired_id = make_active_agreement(vault, expired, customer_id, {"identity.given_name": "read"})
    with vault.unit_of_work() as uow:
        restrict_agreement(uow, paused_id, customer_id, context)
    with vault.unit_of_work() as uow:
        revoke_agreement(uow, revoked_id, customer_id, context)
    with vault.unit_of_work() as uow:
        agreement = uow.session.get(Agreement, expired_id)
        agreement.valid_until = uow.now() - timedelta(minutes=1)
        uow.commit()
    html = client.get("/data").get_data(as_text=True)
    name_item = html[html.index('id="field-identity-given_name"') :]
    name_item = name_item[: name_item.index("</li>")]
    assert f'href="/connections#agreement-{active_id}">Oxucu MMC</a>' in name_item
    assert "(can read)" in name_item
    for hidden in ("Dayandırılmış", "Ləğv", "Köhnə"):
        assert hidden not in html
    email_item = html[html.index('id="field-contact-email"') :]
    assert 'Oxucu MMC</a> <span class="mode">(can read and change)' in email_item
    edit = client.get("/data/identity.given_name/edit").get_data(as_text=True)
    assert "Oxucu MMC" in edit and "Dayandırılmış" not in edit


def test_saving_a_granted_field_tells_each_connected_business_once(client, signed_in, vault):
    customer_id = signed_in(profile={"identity.given_name": "Aysel"})
    first, _ = make_business(vault, name="Birinci")
    second, _ = make_business(vault, name="İkinci")
    unrelated, _ = make_business(vault, name="Üçüncü")
    make_active_agreement(vault, first, customer_id, {"identity.given_name": "read"})
    make_active_agreement(
        vault, second, customer_id, {"identity.given_name": "read", "contact.email": "read"}
    )
    make_active_agreement(vault, unrelated, customer_id, {"contact.email": "read"})
    before = {event.seq for event in outbox(vault)}
    assert submit(client, "/data/identity.given_name/edit", {"value": "Aysu"}).status_code == 303
    events = [event for event in outbox(vault) if event.seq not in before]
    assert sorted(e.business_id for e in events) == sorted([first, second])
    for event in events:
        assert event.type == "profile.updated"
        assert event.payload["fields"] == ["identity.given_name"]
        assert "Aysu" not in json.dumps(event.payload)  # the field is named, its value never
    # Sending the same value again is no change: nobody is told anything.
    assert submit(client, "/data/identity.given_name/edit", {"value": "Aysu"}).status_code == 303
    assert len(outbox(vault)) == len(before) + 2


@pytest.mark.parametrize("payload", XSS)
@pytest.mark.parametrize(
    ("key", "input_name"),
    [("identity.given_name", "value"), ("work.occupation", "value"), ("intent.purchases", "")],
)
def test_markup_typed_into_a_field_comes_back_as_text(
    client, signed_in, vault, payload, key, input_name
):
    customer_id = signed_in()
    if key == "intent.purchases":
        changes = {"rows-0-what": payload, "rows-0-budget": "10", "rows-0-currency": "AZN"}
    else:
        changes = {input_name: payload}
    assert submit(client, f"/data/{key}/edit", changes).status_code == 303
    assert payload in json.dumps(stored(vault, customer_id, key), ensure_ascii=False)
    for path in ("/data", f"/data/{key}/edit", f"/data/{key}/history", f"/data/{key}/delete"):
        html = client.get(path).get_data(as_text=True)
        assert "<script>alert(1)" not in html and "<img src=x" not in html, path
        assert "alert(1)" in html, path  # it is there, as text
    # Also when the page comes back with a message: the typed text stays text.
    bad = {"value": payload + "\u202e"} if input_name else {**changes, "rows-0-budget": "x"}
    html = submit(client, f"/data/{key}/edit", bad).get_data(as_text=True)
    assert "<script>alert(1)" not in html and "<img src=x" not in html
