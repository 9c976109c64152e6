"""The field catalogue: every profile field a customer can keep and a business can ask for.

Each field has a key, a group, a sensitivity, labels and hints in every language Emanet
speaks, and a value type that turns raw input into one canonical JSON value.
"""

# Azerbaijani and Turkish words are spelt with the dotless i (U+0131) on purpose.

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from pydantic import JsonValue, TypeAdapter, ValidationError

from schemas.calendar_types import PastOrPresentDate
from schemas.choice_labels import pick_locale
from schemas.field_errors import FieldValueError, UnknownFieldError, problems_from_validation_error
from schemas.field_values import (
    Address,
    BrandList,
    ChildrenBirthYears,
    InterestList,
    LifeEventList,
    MaritalStatus,
    PreferredChannel,
    PurchaseIntentList,
)
from schemas.text_types import EmailAddress, PhoneNumber, ShortText, short_text

__all__ = [
    "FIELD_CATALOGUE",
    "GROUP_LABELS",
    "FieldGroup",
    "FieldSpec",
    "Sensitivity",
    "field_spec",
    "validate_field_value",
]


class Sensitivity(StrEnum):
    """How much harm a leak of the field could do; drives consent wording and review."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class FieldGroup(StrEnum):
    """Where a field is shown, in forms and on the consent screen."""

    IDENTITY = "identity"
    CONTACT = "contact"
    ADDRESS = "address"
    WORK = "work"
    PREFERENCES = "preferences"
    HOUSEHOLD = "household"
    LIFE_EVENTS = "life_events"
    PURCHASE_INTENTIONS = "purchase_intentions"


# eq=False: specs are singletons, and identity hashing keeps them usable as dict keys.
@dataclass(frozen=True, eq=False)
class FieldSpec:
    """One catalogue field: what it is called, how sensitive it is, what values it takes."""

    key: str
    group: FieldGroup
    sensitivity: Sensitivity
    labels: Mapping[str, str]
    hints: Mapping[str, str]
    value_type: Any
    _adapter: TypeAdapter[Any] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "labels", MappingProxyType(dict(self.labels)))
        object.__setattr__(self, "hints", MappingProxyType(dict(self.hints)))
        object.__setattr__(self, "_adapter", TypeAdapter(self.value_type))

    def label(self, locale: str) -> str:
        """Return the field's label in a locale, falling back to English."""
        return pick_locale(self.labels, locale)

    def hint(self, locale: str) -> str:
        """Return the field's short help text in a locale, falling back to English."""
        return pick_locale(self.hints, locale)

    def validate(self, raw: object) -> JsonValue:
        """Validate raw input and return the field's canonical JSON value."""
        try:
            value = self._adapter.validate_python(raw)
        except ValidationError as exc:
            raise FieldValueError(self.key, problems_from_validation_error(exc)) from None
        return self._adapter.dump_python(value, mode="json")


def _texts(en: str, az: str, tr: str) -> Mapping[str, str]:
    return {"en": en, "az": az, "tr": tr}


GROUP_LABELS: Mapping[FieldGroup, Mapping[str, str]] = MappingProxyType(
    {
        FieldGroup.IDENTITY: _texts("Identity", "Şəxsi məlumatlar", "Kimlik bilgileri"),
        FieldGroup.CONTACT: _texts("Contact", "Əlaqə", "İletişim"),
        FieldGroup.ADDRESS: _texts("Address", "Ünvan", "Adres"),
        FieldGroup.WORK: _texts("Work", "İş", "İş"),
        FieldGroup.PREFERENCES: _texts("Preferences", "Seçimlər", "Tercihler"),
        FieldGroup.HOUSEHOLD: _texts("Household", "Ailə", "Aile"),
        FieldGroup.LIFE_EVENTS: _texts("Life events", "Həyat hadisələri", "Yaşam olayları"),
        FieldGroup.PURCHASE_INTENTIONS: _texts(
            "Purchase plans", "Alış planları", "Satın alma planları"
        ),
    }
)

_ID, _CONTACT, _ADDRESS = FieldGroup.IDENTITY, FieldGroup.CONTACT, FieldGroup.ADDRESS
_WORK, _PREFS, _HOME = FieldGroup.WORK, FieldGroup.PREFERENCES, FieldGroup.HOUSEHOLD
_LOW, _MEDIUM, _HIGH = Sensitivity.LOW, Sensitivity.MEDIUM, Sensitivity.HIGH
_Name = short_text(100)

# fmt: off
_SPECS = (
    FieldSpec(
        "identity.given_name", _ID, _MEDIUM, _texts("Given name", "Ad", "Ad"),
        _texts(
            "Your first name, written as you want it used.",
            "Adınız, necə yazılmasını istəyirsinizsə elə.",
            "Adınız, nasıl yazılmasını istiyorsanız öyle.",
        ),
        _Name,
    ),
    FieldSpec(
        "identity.family_name", _ID, _MEDIUM, _texts("Family name", "Soyad", "Soyadı"),
        _texts(
            "Your surname, written as you want it used.",
            "Soyadınız, necə yazılmasını istəyirsinizsə elə.",
            "Soyadınız, nasıl yazılmasını istiyorsanız öyle.",
        ),
        _Name,
    ),
    FieldSpec(
        "identity.birth_date", _ID, _HIGH, _texts("Date of birth", "Doğum tarixi", "Doğum tarihi"),
        _texts(
            "Use the form YYYY-MM-DD, for example 1990-04-21.",
            "İİİİ-AA-GG şəklində yazın, məsələn, 1990-04-21.",
            "YYYY-AA-GG biçiminde yazın, örneğin 1990-04-21.",
        ),
        PastOrPresentDate,
    ),
    FieldSpec(
        "contact.email", _CONTACT, _MEDIUM, _texts("E-mail", "E-poçt", "E-posta"),
        _texts(
            "For example name@example.com.", "Məsələn, ad@example.com.", "Örneğin ad@example.com."
        ),
        EmailAddress,
    ),
    FieldSpec(
        "contact.phone", _CONTACT, _HIGH, _texts("Phone", "Telefon", "Telefon"),
        _texts(
            "With + and the country code, for example +994 50 123 45 67.",
            "+ işarəsi və ölkə kodu ilə yazın, məsələn, +994 50 123 45 67.",
            "+ işareti ve ülke koduyla yazın, örneğin +90 532 123 45 67.",
        ),
        PhoneNumber,
    ),
    FieldSpec(
        "contact.address", _ADDRESS, _HIGH, _texts("Address", "Ünvan", "Adres"),
        _texts(
            "Street and house number, city, postal code and country.",
            "Küçə və ev nömrəsi, şəhər, poçt indeksi və ölkə.",
            "Sokak ve kapı numarası, şehir, posta kodu ve ülke.",
        ),
        Address,
    ),
    FieldSpec(
        "contact.region", _CONTACT, _MEDIUM, _texts("Region", "Bölgə", "Bölge"),
        _texts(
            "The city or region you live in, for example Baku.",
            "Yaşadığınız şəhər və ya bölgə, məsələn, Bakı.",
            "Yaşadığınız şehir veya bölge, örneğin İstanbul.",
        ),
        _Name,
    ),
    FieldSpec(
        "contact.preferred_channel", _CONTACT, _MEDIUM,
        _texts(
            "Preferred way to contact you",
            "Sizinlə əlaqə üçün seçdiyiniz üsul",
            "Size ulaşmak için tercih ettiğiniz yol",
        ),
        _texts(
            "How businesses should reach you: e-mail, SMS, phone call, post or Emanet inbox.",
            "Bizneslər sizinlə necə əlaqə saxlasın: e-poçt, SMS, telefon zəngi, poçt və ya "
            "Emanet gələnlər qutusu.",
            "İşletmeler size nasıl ulaşsın: e-posta, SMS, telefon araması, posta veya Emanet "
            "gelen kutusu.",
        ),
        PreferredChannel,
    ),
    FieldSpec(
        "work.occupation", _WORK, _LOW, _texts("Occupation", "Peşə", "Meslek"),
        _texts(
            "What you do, for example teacher or software engineer.",
            "Nə iş gördüyünüz, məsələn, müəllim və ya proqram mühəndisi.",
            "Ne iş yaptığınız, örneğin öğretmen veya yazılım mühendisi.",
        ),
        ShortText,
    ),
    FieldSpec(
        "work.employer", _WORK, _LOW, _texts("Employer", "İşəgötürən", "İşveren"),
        _texts(
            "The company or organisation you work for.",
            "İşlədiyiniz şirkət və ya təşkilat.", "Çalıştığınız şirket veya kurum.",
        ),
        ShortText,
    ),
    FieldSpec(
        "work.job_title", _WORK, _LOW, _texts("Job title", "Vəzifə", "Unvan"),
        _texts(
            "Your position, for example sales manager.",
            "Vəzifəniz, məsələn, satış meneceri.",
            "Pozisyonunuz, örneğin satış müdürü.",
        ),
        ShortText,
    ),
    FieldSpec(
        "preferences.interests", _PREFS, _LOW, _texts("Interests", "Maraqlar", "İlgi alanları"),
        _texts(
            "Separate them with commas, for example cycling, jazz, cooking.",
            "Vergüllə ayırın, məsələn, velosiped, caz, yemək bişirmək.",
            "Virgülle ayırın, örneğin bisiklet, caz, yemek yapmak.",
        ),
        InterestList,
    ),
    FieldSpec(
        "preferences.brands", _PREFS, _LOW,
        _texts("Favourite brands", "Sevimli brendlər", "Sevdiğiniz markalar"),
        _texts("Separate them with commas.", "Vergüllə ayırın.", "Virgülle ayırın."),
        BrandList,
    ),
    FieldSpec(
        "household.marital_status", _HOME, _HIGH,
        _texts("Marital status", "Ailə vəziyyəti", "Medeni durum"),
        _texts("Choose one.", "Birini seçin.", "Birini seçin."),
        MaritalStatus,
    ),
    FieldSpec(
        "household.children_birth_years", _HOME, _HIGH,
        _texts("Children's years of birth", "Uşaqların doğum illəri", "Çocukların doğum yılları"),
        _texts(
            "One year for each child, separated by commas, for example 2012, 2015.",
            "Hər uşaq üçün bir il, vergüllə ayırın, məsələn, 2012, 2015.",
            "Her çocuk için bir yıl, virgülle ayırın, örneğin 2012, 2015.",
        ),
        ChildrenBirthYears,
    ),
    FieldSpec(
        "life.events", FieldGroup.LIFE_EVENTS, _HIGH,
        _texts("Life events", "Həyat hadisələri", "Yaşam olayları"),
        _texts(
            "What happened and when, for example moving house on 2024-05-01.",
            "Nə baş verdi və nə vaxt, məsələn, 2024-05-01 tarixində köçmə.",
            "Ne oldu ve ne zaman, örneğin 2024-05-01 tarihinde taşınma.",
        ),
        LifeEventList,
    ),
    FieldSpec(
        "intent.purchases", FieldGroup.PURCHASE_INTENTIONS, _HIGH,
        _texts("Purchase plans", "Alış planları", "Satın alma planları"),
        _texts(
            "What you plan to buy, by when, and your budget with its currency, such as AZN.",
            "Nə almağı planlaşdırdığınız, nə vaxta qədər və büdcəniz, valyutası ilə "
            "(məsələn, AZN).",
            "Ne almayı planladığınız, ne zamana kadar ve bütçeniz, para birimiyle "
            "(örneğin TRY).",
        ),
        PurchaseIntentList,
    ),
)
# fmt: on

FIELD_CATALOGUE: Mapping[str, FieldSpec] = MappingProxyType({spec.key: spec for spec in _SPECS})


def field_spec(key: str) -> FieldSpec:
    """Return the catalogue entry for a field key."""
    try:
        return FIELD_CATALOGUE[key]
    except KeyError:
        raise UnknownFieldError(key, FIELD_CATALOGUE) from None


def validate_field_value(key: str, raw: object) -> JsonValue:
    """Validate raw input for a field and return its canonical JSON value."""
    return field_spec(key).validate(raw)
