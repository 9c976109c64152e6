"""Good example values of every catalogue field, shared by the schema and vault tests."""

from datetime import date

from schemas.field_values import MaritalStatus

# (raw input as a form or an API client sends it, canonical JSON value)
GOOD_VALUES: dict[str, tuple[object, object]] = {
    "identity.given_name": ("  Gülnarə ", "Gülnarə"),
    "identity.family_name": ("Məmmədova", "Məmmədova"),
    "identity.birth_date": ("1990-04-21", "1990-04-21"),
    "contact.email": ("Gulnara.M@Example.AZ", "Gulnara.M@example.az"),
    "contact.phone": ("+994 50 123 45 67", "+994501234567"),
    "contact.address": (
        {
            "street": "Nizami küç. 10, m. 5",
            "city": "Bakı",
            "postal_code": "az 1000",
            "country": "az",
        },
        {
            "street": "Nizami küç. 10, m. 5",
            "city": "Bakı",
            "postal_code": "AZ 1000",
            "country": "AZ",
        },
    ),
    "contact.region": ("Abşeron", "Abşeron"),
    "contact.preferred_channel": ("vault_inbox", "vault_inbox"),
    "work.occupation": ("Müəllim", "Müəllim"),
    "work.employer": ("Bakı Dövlət Universiteti", "Bakı Dövlət Universiteti"),
    "work.job_title": ("Baş müəllim", "Baş müəllim"),
    "preferences.interests": ("caz, Velosiped, CAZ, ", ["caz", "Velosiped"]),
    "preferences.brands": (["Azersun", "Koton", "azersun"], ["Azersun", "Koton"]),
    "household.marital_status": (MaritalStatus.MARRIED, "married"),
    "household.children_birth_years": ("2012, 2015, 2015", [2012, 2015, 2015]),
    "life.events": (
        [{"kind": "moving_house", "date": date(2024, 5, 1)}],
        [{"kind": "moving_house", "date": "2024-05-01"}],
    ),
    "intent.purchases": (
        [{"what": "Avtomobil", "by": "2027-06-01", "budget": "20000.5", "currency": "azn"}],
        [{"what": "Avtomobil", "by": "2027-06-01", "budget": "20000.50", "currency": "AZN"}],
    ),
}
