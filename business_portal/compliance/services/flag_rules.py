"""The rules behind the review flags, as plain data and pure functions (no database).

Each rule is written down here so an officer (and a regulator) can read what raises a flag:
- vague purpose: the description is empty, or fewer than MIN_CONTENT_WORDS words are left
  once generic phrases ("marketing", "business purposes", "improve services"; en, az, tr)
  and filler words are taken out;
- more fields than the purpose needs: a requested field outside PLAUSIBLE_FIELDS[purpose]
  (GDPR Art. 5(1)(c), data minimisation);
- sensitive fields: a requested field in SENSITIVE_FIELDS;
- unused fields: a field granted for at least UNUSED_DAYS days and not used in the last
  UNUSED_DAYS (reads for read access, reads or writes for write access);
- reads after the end: any read the gate refused because the agreement was revoked or had
  expired;
- unusual volume: on some UTC day in the last VOLUME_DAYS, a client read at least
  SPIKE_FACTOR times its median daily reads and at least MIN_EXCESS more than the median,
  counting only days it read at all and only when it read on MIN_ACTIVE_DAYS days or more.
"""

from __future__ import annotations

import re
import statistics
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from schemas.agreements import INTERACTIONS, Purpose

MIN_CONTENT_WORDS = 3
UNUSED_DAYS = 90
VOLUME_DAYS = 30
SPIKE_FACTOR = 3
MIN_EXCESS = 20
MIN_ACTIVE_DAYS = 5

_CONTACT = {"identity.given_name", "identity.family_name", "contact.email", "contact.phone"}
# What each purpose plausibly needs; anything else asked for raises "more fields than needed".
PLAUSIBLE_FIELDS: dict[str, frozenset[str]] = {
    Purpose.SERVICE_PROVISION: frozenset(
        _CONTACT | {"contact.address", "contact.region", "contact.preferred_channel", INTERACTIONS}
    ),
    Purpose.CUSTOMER_CARE: frozenset(
        _CONTACT | {"contact.region", "contact.preferred_channel", INTERACTIONS}
    ),
    Purpose.MARKETING: frozenset(
        {
            "identity.given_name",
            "contact.email",
            "contact.region",
            "contact.preferred_channel",
            "preferences.interests",
            "preferences.brands",
        }
    ),
    Purpose.PERSONALISATION: frozenset(
        {
            "identity.given_name",
            "contact.region",
            "contact.preferred_channel",
            "preferences.interests",
            "preferences.brands",
            "intent.purchases",
            INTERACTIONS,
        }
    ),
    Purpose.DELIVERY: frozenset(_CONTACT | {"contact.address", "contact.preferred_channel"}),
    Purpose.LOYALTY_PROGRAM: frozenset(
        _CONTACT
        | {
            "identity.birth_date",
            "contact.preferred_channel",
            "preferences.interests",
            INTERACTIONS,
        }
    ),
    Purpose.BILLING: frozenset(
        {
            "identity.given_name",
            "identity.family_name",
            "contact.email",
            "contact.address",
            INTERACTIONS,
        }
    ),
    Purpose.SERVICE_OPTIMISATION: frozenset(
        {"contact.region", "contact.preferred_channel", "preferences.interests", INTERACTIONS}
    ),
}

# Fields whose disclosure says much about a person's life: age, family, life events, plans.
SENSITIVE_FIELDS = frozenset(
    {
        "identity.birth_date",
        "household.marital_status",
        "household.children_birth_years",
        "life.events",
        "intent.purchases",
    }
)

# Phrases that name no purpose a customer could hold a business to, in en, az and tr.
GENERIC_PHRASES = (
    # en
    "legitimate business purposes",
    "business purposes",
    "commercial purposes",
    "marketing purposes",
    "internal purposes",
    "other purposes",
    "various purposes",
    "general purposes",
    "improve our services",
    "improve services",
    "improving our services",
    "service improvement",
    "improve the service",
    "analytics",
    "marketing",
    "as needed",
    # az
    "biznes məqsədləri",
    "kommersiya məqsədləri",
    "marketinq məqsədləri",
    "digər məqsədlər",
    "müxtəlif məqsədlər",
    "xidmətlərin təkmilləşdirilməsi",
    "xidmətləri təkmilləşdirmək",
    "xidmətləri yaxşılaşdırmaq",
    "marketinq",
    "analitika",
    # tr
    "ticari amaçlar",
    "iş amaçları",
    "pazarlama amaçlı",
    "pazarlama amaçları",
    "diğer amaçlar",
    "çeşitli amaçlar",
    "genel amaçlar",
    "hizmetlerimizi geliştirmek",
    "hizmetleri iyileştirmek",
    "hizmet iyileştirme",
    "pazarlama",
    "analitik",
)

# Words that carry no purpose of their own, in en, az and tr.
_FILLER = (
    "a an and or the to of for in on with our your we us you it its by as at be is are "
    "purpose purposes use used using data information other etc",
    "və ya üçün ilə bu bir sizin bizim məqsəd məqsədilə məlumat məlumatlar",
    "ve veya için ile bu bir sizin bizim amaç amacıyla amaçlı veri veriler bilgi",
)
FILLER_WORDS = frozenset(" ".join(_FILLER).split())


def _plain(text: str) -> str:
    """Fold case and accents the same way for descriptions and phrases (ı and i alike)."""
    decomposed = unicodedata.normalize("NFKD", text.casefold().replace("ı", "i"))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


_PLAIN_PHRASES = sorted((_plain(p) for p in GENERIC_PHRASES), key=len, reverse=True)
_PLAIN_FILLER = frozenset(_plain(w) for w in FILLER_WORDS)
_WORD = re.compile(r"\w+")


def content_words(description: str) -> list[str]:
    """Return the words of a description that are neither generic phrases nor filler."""
    text = " " + " ".join(_WORD.findall(_plain(description))) + " "
    for phrase in _PLAIN_PHRASES:
        text = text.replace(f" {phrase} ", " ")
    return [w for w in text.split() if w not in _PLAIN_FILLER and not w.isdigit()]


def is_vague(description: str) -> bool:
    """Tell whether a purpose description says too little to hold the business to."""
    return len(content_words(description)) < MIN_CONTENT_WORDS


def excess_fields(purpose: str, requested: Iterable[str]) -> list[str]:
    """Return the requested fields the purpose does not plausibly need."""
    plausible = PLAUSIBLE_FIELDS.get(purpose, frozenset())
    return [key for key in requested if key not in plausible]


def sensitive_fields(requested: Iterable[str]) -> list[str]:
    """Return the requested fields that count as sensitive."""
    return [key for key in requested if key in SENSITIVE_FIELDS]


def unused_fields(granted: Mapping[str, str], used: Mapping[str, set[str]]) -> list[str]:
    """Return granted fields not used, given the fields each kind of access touched."""
    reads = used.get("profile.read", set())
    writes = used.get("profile.write", set())
    unused = []
    for key, mode in granted.items():
        if key == INTERACTIONS:
            touched = bool(used.get("interaction.read") or used.get("interaction.append"))
        elif mode == "write":
            touched = key in reads or key in writes
        else:
            touched = key in reads
        if not touched:
            unused.append(key)
    return unused


@dataclass(frozen=True)
class Spike:
    """A day a client read far more than it usually does."""

    day: str
    reads: int
    median: float


def volume_spike(daily_reads: Mapping[str, int]) -> Spike | None:
    """Return the busiest day that breaks the volume rule, if any (see the module's rules)."""
    counts = [n for n in daily_reads.values() if n > 0]
    if len(counts) < MIN_ACTIVE_DAYS:
        return None
    median = statistics.median(counts)
    spikes = [
        Spike(day, n, median)
        for day, n in daily_reads.items()
        if n >= SPIKE_FACTOR * median and n - median >= MIN_EXCESS
    ]
    return max(spikes, key=lambda s: (s.reads, s.day)) if spikes else None
