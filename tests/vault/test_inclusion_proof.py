"""A customer downloads, from their access log page, the proof that an event is in the signed
log, and checks it with a verifier written here from RFC 9162 alone (SHA-256, Ed25519 and
the published JWKS; nothing of the project's own verification code)."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import uuid
from html import unescape
from typing import Any

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from flask.testing import FlaskClient
from sqlalchemy import select, update

from broker.gate import Caller, read_profile
from tests.broker.oauth_helpers import sign_in
from tests.conftest import make_customer
from tests.factories import make_active_agreement, make_business
from vault.access_log.models import AccessEvent
from vault.access_log.sealer import seal_pending
from vault.unit_of_work import Vault

FIELDS = {"identity.given_name": "read", "contact.phone": "read"}
PROFILE = {"identity.given_name": "Nərmin", "contact.phone": "+994 55 765 43 21"}


# ---- The verifier: RFC 9162 §2.1.1 (hashes) and §2.1.3.2 (inclusion), nothing else. ----


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def root_from_audit_path(index: int, size: int, leaf_hash: bytes, path: list[bytes]) -> bytes:
    """Follow the audit path from a leaf hash to the root, step by step as §2.1.3.2 says."""
    assert index < size, "leaf_index must be smaller than tree_size"
    fn, sn, r = index, size - 1, leaf_hash
    for p in path:
        assert sn != 0, "the path is longer than the tree is deep"
        if fn % 2 == 1 or fn == sn:
            r = sha256(b"\x01" + p + r)
            if fn % 2 == 0:
                while fn % 2 == 0 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = sha256(b"\x01" + r + p)
        fn >>= 1
        sn >>= 1
    assert sn == 0, "the path is shorter than the tree is deep"
    return r


def ed25519_key(jwks: dict[str, Any], kid: str) -> Ed25519PublicKey:
    (jwk,) = [k for k in jwks["keys"] if k["kid"] == kid]
    assert (jwk["kty"], jwk["crv"]) == ("OKP", "Ed25519")
    return Ed25519PublicKey.from_public_bytes(base64.urlsafe_b64decode(jwk["x"] + "=="))


def verify_bundle(bundle: dict[str, Any], jwks: dict[str, Any]) -> dict[str, Any]:
    """Check a downloaded proof end to end; return the logged event it proves."""
    leaf = bundle["leaf"].encode("utf-8")
    leaf_hash = sha256(b"\x00" + leaf)
    assert base64.b64decode(bundle["leaf_hash"]) == leaf_hash, "the leaf is not the one hashed"
    path = [base64.b64decode(p) for p in bundle["audit_path"]]
    root = root_from_audit_path(bundle["leaf_index"], bundle["tree_size"], leaf_hash, path)
    checkpoint = bundle["checkpoint"]
    note = checkpoint["note"].encode("ascii")
    origin, size, signed_root, when, rest = checkpoint["note"].split("\n")
    assert (origin, rest) == ("emanet-access-log", "")
    assert int(size) == bundle["tree_size"], "the checkpoint is of another tree size"
    assert base64.b64decode(signed_root) == root, "the path does not lead to the signed root"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", when)
    key = ed25519_key(jwks, bundle["kid"])
    key.verify(base64.b64decode(checkpoint["signature"]), note)  # raises InvalidSignature
    event: dict[str, Any] = json.loads(leaf)
    assert event["leaf_index"] == bundle["leaf_index"] and event["seq"] == bundle["seq"]
    return event


# ---- The customer's side. ----


def pull(vault: Vault, business_id: uuid.UUID, agreement_id: uuid.UUID) -> None:
    with vault.unit_of_work() as uow:
        read_profile(uow, Caller(business_id, "client:emc_proof"), agreement_id, None)


def proof_links(client: FlaskClient) -> dict[int, str]:
    """Return the log's proof download links by event seq."""
    html = client.get("/access-log?lang=en").get_data(as_text=True)
    links = {}
    for seq, row in re.findall(r'<tr id="log-(\d+)".*?>(.*?)</tr>', html, re.S):
        found = re.search(r'<a href="([^"]+)" download>Download proof', row)
        if found:
            links[int(seq)] = unescape(found.group(1))
    return links


@pytest.fixture
def me(client: FlaskClient, vault: Vault) -> uuid.UUID:
    customer = make_customer(vault, "nermin@example.az", profile=PROFILE)
    sign_in(client, "nermin@example.az")
    return customer


@pytest.fixture
def shop(vault: Vault, me: uuid.UUID) -> tuple[uuid.UUID, uuid.UUID]:
    business_id = make_business(vault, name="Qala Kitab Evi")[0]
    return business_id, make_active_agreement(vault, business_id, me, FIELDS)


def test_a_downloaded_proof_verifies_with_rfc_9162_and_the_published_jwks(
    client: FlaskClient, vault: Vault, me: uuid.UUID, shop: tuple[uuid.UUID, uuid.UUID]
) -> None:
    business_id, agreement_id = shop
    pull(vault, business_id, agreement_id)
    make_customer(vault)  # someone else's events share the tree
    pull(vault, business_id, agreement_id)
    seal_pending(vault, settle_seconds=0, checkpoint_every=3, checkpoint_seconds=0)

    links = proof_links(client)
    reads = [seq for seq in links if "Read your data" in _row_text(client, seq)]
    assert len(reads) == 2
    answer = client.get(links[reads[0]])
    assert answer.status_code == 200
    assert answer.mimetype == "application/json"
    assert "attachment" in answer.headers["Content-Disposition"]
    assert answer.headers["Cache-Control"] == "no-store"
    bundle = answer.get_json()
    jwks = client.get("/.well-known/jwks.json").get_json()
    assert bundle["jwks_uri"].endswith("/.well-known/jwks.json")

    event = verify_bundle(bundle, jwks)
    assert event["seq"] == reads[0] and event["kind"] == "profile.read"
    assert event["customer_id"] == str(me) and event["business_id"] == str(business_id)
    assert event["agreement_id"] == str(agreement_id)
    assert bundle["tree_size"] > bundle["leaf_index"] and bundle["tree_size"] >= 5
    # Every event of the page proves the same way, against the same signed tree.
    for seq, link in links.items():
        assert verify_bundle(client.get(link).get_json(), jwks)["seq"] == seq


def test_a_proof_of_an_altered_event_does_not_verify(
    client: FlaskClient, vault: Vault, me: uuid.UUID, shop: tuple[uuid.UUID, uuid.UUID]
) -> None:
    business_id, agreement_id = shop
    pull(vault, business_id, agreement_id)
    seal_pending(vault, settle_seconds=0, checkpoint_seconds=0)
    jwks = client.get("/.well-known/jwks.json").get_json()
    seq, link = max(proof_links(client).items())
    verify_bundle(client.get(link).get_json(), jwks)
    with vault.unit_of_work() as uow:
        uow.session.execute(
            update(AccessEvent).where(AccessEvent.seq == seq).values(fields=["contact.phone"])
        )
        uow.commit()
    with pytest.raises(AssertionError, match="the leaf is not the one hashed"):
        verify_bundle(client.get(link).get_json(), jwks)
    # A forger who also rewrites the leaf hash cannot reach the signed root.
    forged = client.get(link).get_json()
    forged["leaf_hash"] = base64.b64encode(sha256(b"\x00" + forged["leaf"].encode())).decode()
    with pytest.raises(AssertionError, match="does not lead to the signed root"):
        verify_bundle(forged, jwks)
    # Nor re-sign the root the changed leaf leads to.
    bundle = client.get(link).get_json()
    bundle["checkpoint"]["note"] = bundle["checkpoint"]["note"].replace(
        str(bundle["tree_size"]), str(bundle["tree_size"] + 1), 1
    )
    bundle["tree_size"] += 1
    with pytest.raises((AssertionError, InvalidSignature)):
        verify_bundle(bundle, jwks)


def test_events_without_a_signed_checkpoint_offer_no_proof_yet(
    client: FlaskClient, vault: Vault, me: uuid.UUID, shop: tuple[uuid.UUID, uuid.UUID]
) -> None:
    business_id, agreement_id = shop
    seal_pending(vault, settle_seconds=0)  # the first seal signs at once
    before = proof_links(client)
    pull(vault, business_id, agreement_id)
    html = client.get("/access-log?lang=en").get_data(as_text=True)
    newest = int(re.findall(r'<tr id="log-(\d+)"', html)[0])
    assert newest not in proof_links(client) and "Proof not ready yet" in html
    assert client.get(f"/access-log/{newest}/proof.json").status_code == 404
    # Sealed, but the next checkpoint is not due for a minute: still no proof.
    seal_pending(vault, settle_seconds=0)
    assert newest not in proof_links(client)
    seal_pending(vault, settle_seconds=0, checkpoint_seconds=0)
    assert set(proof_links(client)) == {*before, newest}


def test_a_customer_cannot_download_the_proof_of_another_customers_event(
    client: FlaskClient, vault: Vault, me: uuid.UUID, shop: tuple[uuid.UUID, uuid.UUID]
) -> None:
    business_id, _ = shop
    other = make_customer(vault)
    other_agreement = make_active_agreement(vault, business_id, other, FIELDS)
    pull(vault, business_id, other_agreement)
    seal_pending(vault, settle_seconds=0, checkpoint_seconds=0)
    with vault.unit_of_work(write=False) as uow:
        theirs = list(
            uow.session.scalars(select(AccessEvent.seq).where(AccessEvent.customer_id == other))
        )
    assert theirs
    for seq in theirs:
        assert client.get(f"/access-log/{seq}/proof.json").status_code == 404
    for seq in ("0", "99999999", str(2**63)):
        assert client.get(f"/access-log/{seq}/proof.json").status_code == 404


def test_the_proof_needs_a_signed_in_customer(vault: Vault, app: Any) -> None:
    answer = app.test_client().get("/access-log/1/proof.json")
    assert answer.status_code == 303 and "/login" in answer.headers["Location"]


def _row_text(client: FlaskClient, seq: int) -> str:
    html = client.get("/access-log?lang=en").get_data(as_text=True)
    found = re.search(rf'<tr id="log-{seq}".*?</tr>', html, re.S)
    return unescape(found.group(0)) if found else ""
