"""Labels, per locale, for the choices of the catalogue's enum fields."""

# Azerbaijani and Turkish words are spelt with the dotless i (U+0131) on purpose.

from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType

from schemas.field_values import LifeEventKind, MaritalStatus, PreferredChannel

__all__ = ["CHOICE_LABELS", "choice_label", "pick_locale"]

FALLBACK_LOCALE = "en"


def _labels(en: str, az: str, tr: str) -> Mapping[str, str]:
    return MappingProxyType({"en": en, "az": az, "tr": tr})


CHOICE_LABELS: Mapping[StrEnum, Mapping[str, str]] = MappingProxyType(
    {
        PreferredChannel.EMAIL: _labels("E-mail", "E-poçt", "E-posta"),
        PreferredChannel.SMS: _labels("SMS", "SMS", "SMS"),
        PreferredChannel.PHONE: _labels("Phone call", "Telefon zəngi", "Telefon araması"),
        PreferredChannel.POST: _labels("Post", "Poçt", "Posta"),
        PreferredChannel.VAULT_INBOX: _labels(
            "My Emanet inbox", "Emanet gələnlər qutum", "Emanet gelen kutum"
        ),
        MaritalStatus.SINGLE: _labels("Single", "Subay", "Bekâr"),
        MaritalStatus.MARRIED: _labels("Married", "Evli", "Evli"),
        MaritalStatus.CIVIL_PARTNERSHIP: _labels(
            "Civil partnership", "Qeydiyyatlı tərəfdaşlıq", "Kayıtlı birliktelik"
        ),
        MaritalStatus.DIVORCED: _labels("Divorced", "Boşanmış", "Boşanmış"),
        MaritalStatus.WIDOWED: _labels("Widowed", "Dul", "Dul"),
        MaritalStatus.SEPARATED: _labels("Separated", "Ayrı yaşayır", "Ayrı yaşıyor"),
        LifeEventKind.MOVING_HOUSE: _labels("Moving house", "Köçmə", "Taşınma"),
        LifeEventKind.MARRIAGE: _labels("Marriage", "Evlilik", "Evlilik"),
        LifeEventKind.CHILD: _labels("Having a child", "Uşaq sahibi olma", "Çocuk sahibi olma"),
        LifeEventKind.RETIREMENT: _labels("Retirement", "Təqaüdə çıxma", "Emeklilik"),
        LifeEventKind.GRADUATION: _labels("Graduation", "Məzun olma", "Mezuniyet"),
        LifeEventKind.NEW_JOB: _labels("New job", "Yeni iş", "Yeni iş"),
        LifeEventKind.DIVORCE: _labels("Divorce", "Boşanma", "Boşanma"),
        LifeEventKind.BEREAVEMENT: _labels("Bereavement", "Yaxınını itirmə", "Yakınını kaybetme"),
    }
)


def pick_locale(texts: Mapping[str, str], locale: str) -> str:
    """Return the text for a locale such as "tr" or "az_Latn_AZ", else the English one."""
    language = locale.replace("-", "_").split("_", 1)[0].lower()
    for candidate in (locale, language, FALLBACK_LOCALE):
        if texts.get(candidate):
            return texts[candidate]
    return ""


def choice_label(choice: StrEnum, locale: str) -> str:
    """Return the label of one enum choice in a locale, falling back to English."""
    return pick_locale(CHOICE_LABELS[choice], locale)
