"""Invariant 4: one gate. Every read or write of vault data for a business goes through
`broker/gate.py`, which checks the agreement and logs the decision.

Two halves: a structural test (no other module of `broker/` or `business_portal/` can reach
the vault's decrypting or writing functions) and the policy itself, mode by mode.
"""

from __future__ import annotations

import ast
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from broker.gate import (
    AccessDenied,
    Caller,
    append_interaction,
    read_interactions,
    read_profile,
    write_profile_field,
)
from schemas.interactions import InteractionEntry, InteractionKind
from tests.conftest import make_customer
from tests.factories import make_active_agreement, make_business
from vault.agreements.models import Agreement
from vault.unit_of_work import UnitOfWork, Vault

ROOT = Path(__file__).resolve().parents[2]
SCANNED = ("broker", "business_portal")
GATE = "broker.gate"

# Functions that decrypt or write a customer's vault data, and the associated data that
# binds its ciphertexts; only the gate may use them for a business.
FORBIDDEN_NAMES = {
    "vault.profile.services": {
        "read_fields",
        "write_fields",
        "get_field",
        "set_field",
        "delete_field",
        "field_history",
        "full_history",
        "field_aad",
        "FIELD_AAD_CONTEXT",
    },
    "vault.interactions.services": {
        "list_interactions",
        "record_interaction",
        "log_interaction",
        "interaction_aad",
    },
}
# A customer's data key, and the tables that hold their ciphertexts, are the vault's alone.
# (The AEAD primitives in vault.keys.aead are not on the list: a business's own secrets,
# such as webhook signing secrets, are sealed with them under keys that are not a DEK.)
FORBIDDEN_MODULES = {
    "vault.keys.data_keys",
    "vault.keys.dek_cache",
    "vault.keys.local_keyring",
    "vault.export",
    "vault.export_zip",
    "vault.profile.models",
    "vault.interactions.models",
}
DATA_KEY_NAMES = {"DataKeys", "DekCache", "dek_aad"}
# uow.keys.get/decrypt/encrypt use a customer's DEK; provider.unwrap opens a wrapped DEK.
DATA_KEY_CALLS = {("keys", "get"), ("keys", "decrypt"), ("keys", "encrypt"), ("provider", "unwrap")}
FORBIDDEN_FUNCTIONS: set[str] = set().union(*FORBIDDEN_NAMES.values())


def _resolve(module: str, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    package = module.split(".")[: -node.level]
    return ".".join([*package, *([node.module] if node.module else [])])


def _forbidden_module(name: str) -> bool:
    return any(name == m or name.startswith(m + ".") for m in FORBIDDEN_MODULES)


def _imports(node: ast.Import | ast.ImportFrom, module: str) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names if _forbidden_module(alias.name)]
    origin = _resolve(module, node)
    return [
        f"{origin}.{alias.name}"
        for alias in node.names
        if _forbidden_module(f"{origin}.{alias.name}")
        or alias.name in FORBIDDEN_FUNCTIONS | DATA_KEY_NAMES  # even re-exported elsewhere
        or (alias.name == "*" and origin in FORBIDDEN_NAMES)
    ]


def gate_bypasses(source: str, module: str) -> list[str]:
    """Return every way this module reaches a customer's vault data without the gate."""
    found = []
    for node in ast.walk(ast.parse(source)):
        where = f"{module}:{getattr(node, 'lineno', 0)}"
        if isinstance(node, ast.Import | ast.ImportFrom):
            found += [f"{where} imports {name}" for name in _imports(node, module)]
        elif isinstance(node, ast.Attribute):
            owner = node.value.attr if isinstance(node.value, ast.Attribute) else None
            if owner is None and isinstance(node.value, ast.Name):
                owner = node.value.id
            if node.attr in FORBIDDEN_FUNCTIONS | DATA_KEY_NAMES:
                found.append(f"{where} uses .{node.attr}")
            elif (owner, node.attr) in DATA_KEY_CALLS:
                found.append(f"{where} uses a customer's data key (.{owner}.{node.attr})")
        elif isinstance(node, ast.Name) and node.id in DATA_KEY_NAMES:
            found.append(f"{where} uses {node.id}")
        elif (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and (_forbidden_module(node.value) or node.value in FORBIDDEN_NAMES)
        ):
            found.append(f"{where} names {node.value} (a dynamic import?)")
    return found


def scanned_modules() -> dict[str, Path]:
    modules = {}
    for top in SCANNED:
        for path in sorted((ROOT / top).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            modules[name] = path
    return modules


def test_no_module_but_the_gate_reaches_vault_data_for_a_business() -> None:
    modules = scanned_modules()
    assert GATE in modules and "broker.pairwise" in modules
    bypasses = [
        problem
        for name, path in modules.items()
        if name != GATE
        for problem in gate_bypasses(path.read_text(encoding="utf-8"), name)
    ]
    assert bypasses == [], "only broker/gate.py may decrypt or write vault data:\n" + "\n".join(
        bypasses
    )


def test_the_scan_sees_the_gate_itself_reach_vault_data() -> None:
    """The structural test would notice, since the gate's own imports are found."""
    found = "\n".join(gate_bypasses((ROOT / "broker" / "gate.py").read_text(), GATE))
    for name in ("read_fields", "write_fields", "list_interactions", "record_interaction"):
        assert name in found


@pytest.mark.parametrize(
    "source",
    [
        "from vault.profile.services import read_fields",
        "from vault.profile.services import FieldValue, write_fields as store",
        "from vault.profile.services import *",
        "from vault.interactions.services import list_interactions",
        "from vault.interactions.services import record_interaction",
        "from vault.profile import services\nservices.read_fields(uow, c)",
        "import vault.profile.services as profile\nprofile.get_field(uow, c, 'k')",
        "import vault.interactions.services\nvault.interactions.services.list_interactions(u, c)",
        "from vault.keys import data_keys",
        "from vault.keys.data_keys import DataKeys",
        "import vault.keys.dek_cache",
        "from vault.profile.services import field_aad",
        "from vault.interactions.models import Interaction",
        "from vault.profile.models import ProfileField",
        "from vault import export",
        "dek = uow.keys.get(uow.session, customer_id)",
        "uow.keys.decrypt(uow.session, customer_id, blob, aad)",
        "uow.keys.encrypt(uow.session, customer_id, blob, aad)",
        "dek = uow.provider.unwrap(wrapped, aad)",
        "importlib.import_module('vault.profile.services')",
        "from .gate import read_fields",  # re-exported by the gate is still not the gate
    ],
)
def test_the_scan_finds_each_way_around_the_gate(source: str) -> None:
    assert gate_bypasses(source, "business_portal.crm.views") != []


@pytest.mark.parametrize(
    "source",
    [
        "from broker.gate import read_profile, write_profile_field",
        "from broker import gate\ngate.read_profile(uow, caller, agreement_id)",
        "from vault.profile.services import FieldValue",
        "from vault.interactions.services import InteractionRecord",
        "from vault.agreements.services import current_status, revoke_agreement",
        "from vault.keys.provider import KeyringError",
        "subject = uow.provider.blind_index('pairwise-subject', raw)",
        "keys = sorted(mapping.keys())",
        "from vault.keys.aead import seal, unseal",  # a business's own secrets
        "from vault.keys.aead import DecryptionError",
    ],
)
def test_the_scan_lets_harmless_code_through(source: str) -> None:
    assert gate_bypasses(source, "business_portal.crm.views") == []


# --- the policy, mode by mode ------------------------------------------------------------------


def _visit() -> InteractionEntry:
    return InteractionEntry(
        kind=InteractionKind.VISIT, occurred_at=datetime.now(UTC) - timedelta(minutes=5)
    )


OPERATIONS: dict[str, Callable[[UnitOfWork, Caller, uuid.UUID], object]] = {
    "read field": lambda uow, c, a: read_profile(uow, c, a, ["contact.phone"]),
    "write field": lambda uow, c, a: write_profile_field(
        uow, c, a, "contact.phone", "+905321234567"
    ),
    "read interactions": lambda uow, c, a: read_interactions(uow, c, a),
    "append interaction": lambda uow, c, a: append_interaction(uow, c, a, _visit()),
}
# What each grant allows: write implies reading the field back; append implies reading the
# interactions this business logged itself.
GRANTS: dict[str, tuple[dict[str, str], set[str]]] = {
    "phone-read": ({"contact.phone": "read"}, {"read field"}),
    "phone-write": ({"contact.phone": "write"}, {"read field", "write field"}),
    "interactions-read": ({"interactions": "read"}, {"read interactions"}),
    "interactions-append": (
        {"interactions": "append"},
        {"read interactions", "append interaction"},
    ),
    "other-field": ({"identity.given_name": "read"}, set()),
}


@pytest.mark.parametrize("operation", list(OPERATIONS))
@pytest.mark.parametrize("grant", list(GRANTS))
def test_the_gate_allows_exactly_what_the_access_mode_grants(
    vault: Vault, grant: str, operation: str
) -> None:
    fields, allowed = GRANTS[grant]
    business_id = make_business(vault)[0]
    customer = make_customer(vault, profile={"contact.phone": "+994501234567"})
    agreement_id = make_active_agreement(vault, business_id, customer, fields)
    caller = Caller(business_id, "staff:test")
    with vault.unit_of_work() as uow:
        if operation in allowed:
            OPERATIONS[operation](uow, caller, agreement_id)
        else:
            with pytest.raises(AccessDenied) as refused:
                OPERATIONS[operation](uow, caller, agreement_id)
            assert refused.value.reason == "not_granted"


def test_the_gate_holds_to_the_validity_to_the_microsecond(
    vault: Vault, customer_id: uuid.UUID
) -> None:
    business_id = make_business(vault)[0]
    agreement_id = make_active_agreement(
        vault, business_id, customer_id, {"contact.phone": "read"}, duration="P1D"
    )
    with vault.unit_of_work(write=False) as uow:
        agreement = uow.session.get(Agreement, agreement_id)
        assert agreement is not None and agreement.valid_until is not None
        valid_until = agreement.valid_until
    caller = Caller(business_id, "client:test")
    vault.clock = lambda: valid_until - timedelta(microseconds=1)
    with vault.unit_of_work() as uow:
        read_profile(uow, caller, agreement_id)
    vault.clock = lambda: valid_until
    with vault.unit_of_work() as uow, pytest.raises(AccessDenied) as refused:
        read_profile(uow, caller, agreement_id)
    assert refused.value.reason == "expired"
