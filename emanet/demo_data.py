"""Demo customers with realistic Azerbaijani, Turkish and English names and filled fields."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import phonenumbers
from sqlalchemy import select

from schemas.interactions import InteractionEntry, InteractionKind
from vault.accounts.models import Customer
from vault.accounts.services import create_customer, email_index
from vault.interactions.services import record_interaction
from vault.unit_of_work import Vault

DEMO_PASSWORD = "emanet-demo-2026"
SEED = 20261124


@dataclass(frozen=True)
class Locale:
    """What makes a demo customer from one country look like one."""

    code: str
    country: str
    domain: str
    currency: str
    phone_prefixes: tuple[str, ...]
    local_digits: int
    people: tuple[tuple[str, str], ...]
    streets: tuple[str, ...]
    cities: tuple[tuple[str, str, str], ...]  # city, region, postal code
    employers: tuple[str, ...]
    brands: tuple[str, ...]


AZERBAIJAN = Locale(
    "az",
    "AZ",
    "example.az",
    "AZN",
    ("+99450", "+99451", "+99455", "+99470", "+99477"),
    7,
    (
        ("Aysel", "Məmmədova"),
        ("Rəşad", "Əliyev"),
        ("Leyla", "Hüseynova"),
        ("Tural", "Quliyev"),
        ("Nigar", "Həsənova"),
        ("Elvin", "İsmayılov"),
        ("Günel", "Abbasova"),
        ("Orxan", "Babayev"),
        ("Səbinə", "Rzayeva"),
        ("Kamran", "Nəsirov"),
        ("Aynur", "Cəfərova"),
        ("Fərid", "Sultanov"),
    ),
    (
        "Nizami küçəsi",
        "Füzuli küçəsi",
        "Azadlıq prospekti",
        "Xətai prospekti",
        "Zərifə Əliyeva küçəsi",
    ),
    (
        ("Bakı", "Abşeron", "AZ1000"),
        ("Gəncə", "Gəncə-Daşkəsən", "AZ2000"),
        ("Sumqayıt", "Abşeron", "AZ5000"),
    ),
    ("Azercell", "SOCAR", "Kapital Bank", "Bravo", "Port Baku"),
    ("Azerçay", "Sarab", "Bravo", "Baku Electronics", "Araz"),
)
TURKEY = Locale(
    "tr",
    "TR",
    "example.com.tr",
    "TRY",
    ("+90532", "+90533", "+90542", "+90505", "+90555"),
    7,
    (
        ("Elif", "Yılmaz"),
        ("Mehmet", "Kaya"),
        ("Zeynep", "Demir"),
        ("Emre", "Şahin"),
        ("Ayşe", "Çelik"),
        ("Burak", "Yıldız"),
        ("Selin", "Aydın"),
        ("Can", "Öztürk"),
        ("Deniz", "Arslan"),
        ("Ece", "Doğan"),
        ("Murat", "Koç"),
        ("Büşra", "Kurt"),
    ),
    ("Bağdat Caddesi", "İstiklal Caddesi", "Atatürk Bulvarı", "Cumhuriyet Caddesi"),
    (
        ("İstanbul", "Marmara", "34728"),
        ("Ankara", "İç Anadolu", "06690"),
        ("İzmir", "Ege", "35220"),
    ),
    ("Arçelik", "Türk Telekom", "Koç Holding", "Migros", "Trendyol"),
    ("Vakko", "Mavi", "Beko", "Koton", "Eti"),
)
BRITAIN = Locale(
    "en",
    "GB",
    "example.co.uk",
    "GBP",
    ("+447911", "+447700", "+447400", "+447824"),
    6,
    (
        ("Olivia", "Bennett"),
        ("James", "Carter"),
        ("Amelia", "Hughes"),
        ("Oliver", "Price"),
        ("Sophie", "Turner"),
        ("Harry", "Walsh"),
        ("Grace", "Mitchell"),
        ("Thomas", "Reid"),
        ("Emily", "Foster"),
        ("Daniel", "Brooks"),
        ("Charlotte", "Hayes"),
        ("George", "Ellis"),
    ),
    ("Camden Road", "Mill Lane", "Church Street", "Victoria Road", "Station Road"),
    (
        ("London", "Greater London", "NW1 9LS"),
        ("Manchester", "Greater Manchester", "M1 1AE"),
        ("Bristol", "South West", "BS1 4DJ"),
    ),
    ("NHS Trust", "Barclays", "Arup", "BBC", "Ocado"),
    ("Marks & Spencer", "Barbour", "Dyson", "John Lewis", "Clarks"),
)

OCCUPATIONS = (
    ("Teacher", "Mathematics teacher"),
    ("Software engineer", "Senior developer"),
    ("Architect", "Project architect"),
    ("Nurse", "Ward nurse"),
    ("Accountant", "Auditor"),
    ("Designer", "Product designer"),
    ("Pharmacist", "Pharmacist"),
    ("Lawyer", "Associate"),
    ("Chef", "Head chef"),
    ("Antique collector", "Gallery owner"),
)
INTERESTS = (
    "antiques",
    "carpets",
    "tea",
    "travel",
    "photography",
    "football",
    "jazz",
    "cooking",
    "gardening",
    "chess",
    "cycling",
    "mugham",
    "books",
    "running",
    "ceramics",
    "wine",
)
PURCHASE_IDEAS = ("sofa", "laptop", "winter coat", "Qarabağ carpet", "coffee machine", "bicycle")


def _phone(rng: random.Random, locale: Locale) -> str:
    while True:
        candidate = rng.choice(locale.phone_prefixes) + "".join(
            rng.choice("0123456789") for _ in range(locale.local_digits)
        )
        if phonenumbers.is_valid_number(phonenumbers.parse(candidate)):
            return candidate


def _email_local(text: str) -> str:
    table = str.maketrans("əıöüşçğƏİÖÜŞÇĞ", "eiouscgEIOUSCG")
    return text.translate(table).lower()


def demo_profile(rng: random.Random, locale: Locale, given: str, family: str) -> dict[str, object]:
    """Return a filled, valid profile for one demo customer."""
    city, region, postal = rng.choice(locale.cities)
    occupation, title = rng.choice(OCCUPATIONS)
    born = date(rng.randint(1960, 2002), rng.randint(1, 12), rng.randint(1, 28))
    married = rng.random() < 0.55
    profile: dict[str, object] = {
        "identity.given_name": given,
        "identity.family_name": family,
        "identity.birth_date": born.isoformat(),
        "contact.email": f"{_email_local(given)}.{_email_local(family)}@{locale.domain}",
        "contact.phone": _phone(rng, locale),
        "contact.address": {
            "street": f"{rng.choice(locale.streets)} {rng.randint(1, 180)}",
            "city": city,
            "postal_code": postal,
            "country": locale.country,
        },
        "contact.region": region,
        "contact.preferred_channel": rng.choice(["email", "sms", "phone", "vault_inbox"]),
        "work.occupation": occupation,
        "work.employer": rng.choice(locale.employers),
        "work.job_title": title,
        "preferences.interests": rng.sample(INTERESTS, 3),
        "preferences.brands": rng.sample(locale.brands, 2),
        "household.marital_status": "married" if married else "single",
    }
    if married and born.year < 1995:
        profile["household.children_birth_years"] = sorted(
            rng.sample(range(max(born.year + 22, 1990), 2025), rng.randint(1, 3))
        )
        profile["life.events"] = [{"kind": "marriage", "date": f"{born.year + 24}-06-14"}]
    if rng.random() < 0.5:
        profile["intent.purchases"] = [
            {
                "what": rng.choice(PURCHASE_IDEAS),
                "by": (date.today() + timedelta(days=rng.randint(20, 200))).isoformat(),
                "budget": str(rng.choice([250, 800, 1500, 3000])),
                "currency": locale.currency,
            }
        ]
    return profile


def demo_people() -> list[tuple[Locale, str, str]]:
    """Every demo customer: locale, given name, family name."""
    return [(loc, g, f) for loc in (AZERBAIJAN, TURKEY, BRITAIN) for g, f in loc.people]


def seed_demo(vault: Vault, progress: Callable[[int, int], None] | None = None) -> int:
    """Create the demo customers that do not exist yet; return how many were created."""
    rng = random.Random(SEED)
    people = demo_people()
    created = 0
    for number, (locale, given, family) in enumerate(people, start=1):
        profile = demo_profile(rng, locale, given, family)
        login = str(profile["contact.email"])
        notes = rng.randint(0, 3)
        with vault.unit_of_work() as uow:
            index = email_index(uow.provider, login)
            exists = uow.session.scalar(select(Customer.id).where(Customer.email_index == index))
        if exists is None:
            with vault.unit_of_work() as uow:
                customer_id = create_customer(
                    uow, login, DEMO_PASSWORD, locale=locale.code, profile=profile
                )
            with vault.unit_of_work() as uow:
                for back in range(notes):
                    record_interaction(
                        uow, customer_id, _demo_purchase(rng, locale, back), logged_by="customer"
                    )
                uow.commit()
            created += 1
        if progress:
            progress(number, len(people))
    return created


def _demo_purchase(rng: random.Random, locale: Locale, back: int) -> InteractionEntry:
    return InteractionEntry(
        kind=InteractionKind.PURCHASE,
        occurred_at=datetime.now(UTC) - timedelta(days=30 * back + rng.randint(1, 25)),
        summary=rng.choice(PURCHASE_IDEAS),
        details="Noted in my own vault so I remember where I bought it.",
        amount=Decimal(rng.randint(20, 900)),
        currency=locale.currency,
    )
