"""Every mapped table, imported in one place so Alembic and tests see the whole schema."""

from vault.accounts.models import Customer
from vault.interactions.models import Interaction
from vault.keys.models import CustomerKey, KekRecord
from vault.orm import Base
from vault.profile.models import ProfileField, ProfileFieldVersion

metadata = Base.metadata

__all__ = [
    "Customer",
    "CustomerKey",
    "Interaction",
    "KekRecord",
    "ProfileField",
    "ProfileFieldVersion",
    "metadata",
]
