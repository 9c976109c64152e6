"""Export of everything a customer's vault holds, decrypted (GDPR Art. 15 and 20).

`CustomerExport` reads one section at a time, in keyset-paged batches, and decrypts as it
goes, so a caller that writes rows out as they come (`vault.export_zip`) needs memory for one
batch however large the vault grows. `export_vault` gathers it all into one document.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator, Sequence
from decimal import Decimal
from typing import Any

from pydantic import BaseModel
from sqlalchemy import ColumnElement, Row, Select, bindparam, func, select, tuple_

from schemas.choice_labels import pick_locale
from schemas.export import (
    EXPORT_SECTIONS,
    ExportedAccessEvent,
    ExportedAccount,
    ExportedAgreement,
    ExportedAgreementEvent,
    ExportedField,
    ExportedFieldVersion,
    ExportedInteraction,
    ExportedReceipt,
    ExportHeader,
    VaultExport,
)
from schemas.field_catalogue import field_spec
from vault.access_log.models import AccessEvent
from vault.accounts.models import Customer
from vault.accounts.services import login_email
from vault.agreements.models import Agreement, AgreementEvent
from vault.agreements.status import current_status
from vault.errors import CustomerNotFoundError
from vault.interactions.models import Interaction
from vault.interactions.services import interaction_aad
from vault.keys import aead
from vault.profile.models import ProfileField, ProfileFieldVersion
from vault.profile.services import field_aad
from vault.receipts.models import ConsentReceipt
from vault.unit_of_work import UnitOfWork

__all__ = ["BATCH_SIZE", "CustomerExport", "export_counts", "export_vault"]

BATCH_SIZE = 250

# Who acted, in the customer's words (en, az, tr); `{business}` is the business's name.
_ACTOR_WORDS: dict[str, tuple[str, str, str]] = {
    "customer": ("You", "Siz", "Siz"),
    "business": ("{business}", "{business}", "{business}"),
    "client": (
        "{business}, through its app",
        "{business}, öz tətbiqi vasitəsilə",
        "{business}, kendi uygulaması aracılığıyla",
    ),
    "staff": ("A staff member of {business}", "{business} əməkdaşı", "{business} çalışanı"),
    "system": ("Emanet, automatically", "Emanet, avtomatik olaraq", "Emanet, otomatik olarak"),
    "operator": ("The Emanet operator", "Emanet operatoru", "Emanet operatörü"),
    "": ("Someone else", "Başqa biri", "Başka biri"),
}
_A_BUSINESS = ("a business", "bir şirkət", "bir işletme")


class CustomerExport:
    """One customer's vault, read section by section inside the caller's unit of work."""

    def __init__(
        self,
        uow: UnitOfWork,
        customer_id: uuid.UUID,
        *,
        locale: str | None = None,
        batch_size: int = BATCH_SIZE,
    ) -> None:
        _read_one_snapshot(uow)
        customer = uow.session.get(Customer, customer_id)
        if customer is None or customer.erased_at is not None:
            raise CustomerNotFoundError(f"No customer {customer_id}.")
        self.uow = uow
        self.customer_id = customer_id
        self.locale = locale or customer.locale
        self.batch_size = batch_size
        self._customer = customer
        self._dek: bytes | None = None
        # Businesses are named as the customer was shown them, by id and by OAuth client.
        self._names: dict[str, str] = {}
        a = Agreement
        query = select(a.business_id, a.client_id, a.business, a.created_at, a.id)
        for business_id, client_id, business, *_ in self._rows(
            query.where(a.customer_id == customer_id), (a.created_at, a.id)
        ):
            self._names[str(business_id)] = business["legal_name"]
            if client_id:
                self._names[f"client:{client_id}"] = business["legal_name"]

    def header(self) -> ExportHeader:
        """Return the format, the time, the language and the account."""
        return ExportHeader(
            exported_at=self.uow.now(),
            language=self.locale,
            account=ExportedAccount(
                id=str(self.customer_id),
                email=login_email(self.uow, self.customer_id),
                locale=self._customer.locale,
                created_at=self._customer.created_at,
            ),
        )

    def sections(self) -> list[tuple[str, Callable[[], Iterator[BaseModel]]]]:
        """Return each section's name with a function that yields its rows."""
        return [(name, getattr(self, name)) for name in EXPORT_SECTIONS]

    def fields(self) -> Iterator[ExportedField]:
        """Yield every field's current value."""
        f = ProfileField
        query = select(f.field_key, f.version, f.ciphertext, f.updated_at).where(
            f.customer_id == self.customer_id
        )
        for key, version, ciphertext, updated_at in self._rows(query, (f.field_key,)):
            value = json.loads(self._open(ciphertext, field_aad(self.customer_id, key, version)))
            yield ExportedField(
                key=key,
                label=self._label(key),
                value=value,
                version=version,
                updated_at=updated_at,
            )

    def field_history(self) -> Iterator[ExportedFieldVersion]:
        """Yield every version of every field, field by field, oldest first."""
        v = ProfileFieldVersion
        query = select(v.field_key, v.version, v.ciphertext, v.changed_at, v.changed_by).where(
            v.customer_id == self.customer_id
        )
        for key, version, ciphertext, changed_at, actor in self._rows(
            query, (v.field_key, v.version)
        ):
            aad = field_aad(self.customer_id, key, version)
            yield ExportedFieldVersion(
                key=key,
                version=version,
                value=None if ciphertext is None else json.loads(self._open(ciphertext, aad)),
                deleted=ciphertext is None,
                changed_at=changed_at,
                changed_by=_role(actor),
                changed_by_in_words=self._in_words(actor, None),
            )

    def interactions(self) -> Iterator[ExportedInteraction]:
        """Yield every interaction, oldest first."""
        i = Interaction
        query = select(i.id, i.kind, i.occurred_at, i.logged_by, i.ciphertext, i.created_at)
        query = query.where(i.customer_id == self.customer_id)
        for row in self._rows(query, (i.occurred_at, i.id)):
            aad = interaction_aad(self.customer_id, row.id, row.kind, row.logged_by)
            secret = json.loads(self._open(row.ciphertext, aad))
            business_id = row.logged_by.split(":", 1)[1] if ":" in row.logged_by else None
            yield ExportedInteraction(
                id=str(row.id),
                kind=row.kind,
                occurred_at=row.occurred_at,
                logged_by=_role(row.logged_by),
                logged_by_in_words=self._in_words(row.logged_by, business_id),
                business_id=business_id,
                summary=secret["summary"],
                details=secret["details"],
                amount=None if secret["amount"] is None else Decimal(secret["amount"]),
                currency=secret["currency"],
                created_at=row.created_at,
            )

    def agreements(self) -> Iterator[ExportedAgreement]:
        """Yield every agreement: terms, status, the business as shown, what was granted."""
        now = self.uow.now()
        keys = (Agreement.created_at, Agreement.id)
        query = select(Agreement, *keys).where(Agreement.customer_id == self.customer_id)
        for a, *_ in self._rows(query, keys):
            yield ExportedAgreement(
                id=str(a.id),
                business_id=str(a.business_id),
                business_name=a.business["legal_name"],
                business=a.business,
                status=current_status(a, now).value,
                restricted=a.restricted,
                terms=a.terms,
                granted_fields=dict(a.granted_fields),
                version=a.version,
                supersedes_id=str(a.supersedes_id) if a.supersedes_id else None,
                valid_from=a.valid_from,
                valid_until=a.valid_until,
                created_at=a.created_at,
                decided_at=a.decided_at,
                ended_at=a.ended_at,
            )

    def agreement_events(self) -> Iterator[ExportedAgreementEvent]:
        """Yield every event of every agreement, oldest first (invariant 9)."""
        e = AgreementEvent
        query = (
            select(e.id, e.agreement_id, e.kind, e.at, e.actor, e.ip, e.user_agent, e.state)
            .add_columns(Agreement.business_id)
            .join(Agreement, Agreement.id == e.agreement_id)
            .where(Agreement.customer_id == self.customer_id)
        )
        for row in self._rows(query, (e.id,)):
            own = row.actor == "customer"  # an address or browser is kept only if it is theirs
            yield ExportedAgreementEvent(
                id=row.id,
                agreement_id=str(row.agreement_id),
                kind=row.kind,
                at=row.at,
                actor=_role(row.actor),
                actor_in_words=self._in_words(row.actor, str(row.business_id)),
                ip=row.ip if own else None,
                user_agent=row.user_agent if own else None,
                state=row.state,
            )

    def receipts(self) -> Iterator[ExportedReceipt]:
        """Yield every consent receipt, as the compact JWS that was issued."""
        r = ConsentReceipt
        query = (
            select(r.id, r.agreement_id, r.event_id, r.kind, r.kid, r.issued_at, r.jws)
            .join(Agreement, Agreement.id == r.agreement_id)
            .where(Agreement.customer_id == self.customer_id)
        )
        for row in self._rows(query, (r.event_id,)):
            yield ExportedReceipt(
                **{**row._asdict(), "id": str(row.id), "agreement_id": str(row.agreement_id)}
            )

    def access_log(self) -> Iterator[ExportedAccessEvent]:
        """Yield every access log entry about the customer, oldest first."""
        a = AccessEvent
        query = select(
            a.seq, a.at, a.kind, a.outcome, a.actor, a.business_id, a.agreement_id, a.purpose
        ).add_columns(a.fields)
        for row in self._rows(query.where(a.customer_id == self.customer_id), (a.seq,)):
            business_id = str(row.business_id) if row.business_id else None
            yield ExportedAccessEvent(
                seq=row.seq,
                at=row.at,
                kind=row.kind,
                outcome=row.outcome,
                actor=_role(row.actor),
                actor_in_words=self._in_words(row.actor, business_id),
                business_id=business_id,
                business_name=self._names.get(business_id) if business_id else None,
                agreement_id=str(row.agreement_id) if row.agreement_id else None,
                purpose=row.purpose,
                fields=row.fields,
            )

    def _rows(self, query: Select[Any], keys: Sequence[ColumnElement[Any]]) -> Iterator[Row[Any]]:
        # Keyset paging: each batch starts after the last key of the one before, so no page
        # is held longer than it takes to write it out, and no offset is rescanned.
        after: tuple[Any, ...] | None = None
        while True:
            page = query.order_by(*keys).limit(self.batch_size)
            if after is not None:
                bound = [
                    bindparam(None, value, type_=k.type)
                    for k, value in zip(keys, after, strict=True)
                ]
                page = page.where(tuple_(*keys) > tuple_(*bound))
            rows = self.uow.session.execute(page).all()
            yield from rows
            if len(rows) < self.batch_size:
                return
            after = tuple(rows[-1]._mapping[key] for key in keys)

    def _open(self, sealed: bytes, aad: bytes) -> bytes:
        if self._dek is None:
            self._dek = self.uow.keys.get(self.uow.session, self.customer_id)
        return aead.unseal(self._dek, sealed, aad)

    def _label(self, key: str) -> str:
        try:
            return field_spec(key).label(self.locale)
        except LookupError:  # a field that has since left the catalogue keeps its key
            return key

    def _in_words(self, actor: str, business_id: str | None) -> str:
        role = _role(actor) if _role(actor) in _ACTOR_WORDS else ""
        name = self._names.get(actor) or self._names.get(business_id or actor.split(":")[-1])
        business = name or self._pick(_A_BUSINESS)
        return self._pick(_ACTOR_WORDS[role]).format(business=business)

    def _pick(self, words: tuple[str, str, str]) -> str:
        return pick_locale(dict(zip(("en", "az", "tr"), words, strict=True)), self.locale)


def _role(actor: str) -> str:
    # "client:<id>", "business:<id>", "staff:<id>" → the role alone: nobody else's identifier.
    return actor.split(":", 1)[0]


def _read_one_snapshot(uow: UnitOfWork) -> None:
    # Every section must describe the same moment. SQLite's read transaction already is a
    # snapshot; PostgreSQL's default READ COMMITTED is not, so ask for REPEATABLE READ.
    session = uow.session
    if session.get_bind().dialect.name == "postgresql" and not session.in_transaction():
        session.connection(execution_options={"isolation_level": "REPEATABLE READ"})


def export_vault(
    uow: UnitOfWork, customer_id: uuid.UUID, *, locale: str | None = None
) -> VaultExport:
    """Gather everything the vault holds for the customer into one document."""
    export = CustomerExport(uow, customer_id, locale=locale)
    sections = {name: list(rows()) for name, rows in export.sections()}
    return VaultExport(**export.header().model_dump(), **sections)


def export_counts(uow: UnitOfWork, customer_id: uuid.UUID) -> dict[str, int]:
    """Count the rows of each section, for the page that offers the export."""
    mine = Agreement.customer_id == customer_id
    queries = {
        "fields": select(func.count()).where(ProfileField.customer_id == customer_id),
        "field_history": select(func.count()).where(ProfileFieldVersion.customer_id == customer_id),
        "interactions": select(func.count()).where(Interaction.customer_id == customer_id),
        "agreements": select(func.count()).select_from(Agreement).where(mine),
        "agreement_events": select(func.count()).select_from(AgreementEvent).join(Agreement),
        "receipts": select(func.count()).select_from(ConsentReceipt).join(Agreement),
        "access_log": select(func.count()).where(AccessEvent.customer_id == customer_id),
    }
    queries["agreement_events"] = queries["agreement_events"].where(mine)
    queries["receipts"] = queries["receipts"].where(mine)
    return {name: uow.session.scalar(query) or 0 for name, query in queries.items()}
