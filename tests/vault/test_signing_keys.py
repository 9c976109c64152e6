"""Receipt-signing keys live in the keyring: Ed25519, versioned, published as a JWK Set."""

from __future__ import annotations

import base64
import json
import threading
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from joserfc.jwk import KeySet

from vault.keys.local_keyring import LocalKeyring, _checksum
from vault.keys.provider import KeyringError


def _as_before_receipts(path: Path) -> None:
    """Rewrite a keyring the way one written before signing keys existed looks."""
    document = json.loads(path.read_text())
    document.pop("signing_keys")
    document.pop("active_signing_key")
    document["checksum"] = _checksum(document)
    path.write_text(json.dumps(document, indent=2))
    path.chmod(0o600)


def _x(public_key: Ed25519PublicKey) -> str:
    raw = public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


@pytest.fixture
def old_keyring(tmp_path: Path) -> Path:
    path = tmp_path / "keyring.json"
    LocalKeyring.create(path)
    _as_before_receipts(path)
    return path


def test_a_new_keyring_has_an_active_signing_key(tmp_path: Path) -> None:
    keyring = LocalKeyring.create(tmp_path / "keyring.json")
    document = json.loads(keyring.path.read_text())
    kid, key = keyring.signing_key()
    assert document["active_signing_key"] == kid
    assert kid.startswith("sig-")
    raw = base64.b64decode(document["signing_keys"][kid]["private_key"])
    assert key.private_bytes_raw() == raw
    assert len(raw) == 32
    assert document["signing_keys"][kid]["created_at"]


def test_an_older_keyring_gets_a_signing_key_on_first_use_and_keeps_it(old_keyring: Path) -> None:
    keyring = LocalKeyring(old_keyring)
    kek_before = keyring.active_kek_id
    kid, key = keyring.signing_key()
    document = json.loads(old_keyring.read_text())
    assert document["active_signing_key"] == kid
    assert document["checksum"] == _checksum(document)
    assert old_keyring.stat().st_mode & 0o777 == 0o600
    assert document["active_kek"] == kek_before  # nothing else changed
    # Persisted: another process opening the file sees the same key, and asking again
    # neither adds a key nor rewrites the file.
    stamp = old_keyring.stat().st_mtime_ns, old_keyring.stat().st_ino
    other_kid, other_key = LocalKeyring(old_keyring).signing_key()
    assert other_kid == kid
    assert _x(other_key.public_key()) == _x(key.public_key())
    assert keyring.signing_key()[0] == kid
    assert (old_keyring.stat().st_mtime_ns, old_keyring.stat().st_ino) == stamp
    assert list(json.loads(old_keyring.read_text())["signing_keys"]) == [kid]


def test_concurrent_first_uses_add_one_signing_key(old_keyring: Path) -> None:
    keyrings = [LocalKeyring(old_keyring) for _ in range(6)]
    kids: list[str] = []
    threads = [
        threading.Thread(target=lambda k=k: kids.append(k.signing_key()[0])) for k in keyrings
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(kids)) == 1
    assert list(json.loads(old_keyring.read_text())["signing_keys"]) == [kids[0]]


def test_the_jwks_publishes_public_halves_only_in_rfc_7517_shape(tmp_path: Path) -> None:
    keyring = LocalKeyring.create(tmp_path / "keyring.json")
    kid, key = keyring.signing_key()
    jwks = keyring.public_jwks()
    assert jwks == {
        "keys": [
            {
                "kty": "OKP",
                "crv": "Ed25519",
                "x": _x(key.public_key()),
                "kid": kid,
                "use": "sig",
                "alg": "EdDSA",
            }
        ]
    }
    assert all("d" not in jwk for jwk in jwks["keys"])  # no private part (RFC 8037 §2)
    imported = KeySet.import_key_set(jwks)  # a JOSE library we do not write accepts it
    assert imported.get_by_kid(kid).as_dict()["x"] == _x(key.public_key())


def test_a_jwks_from_an_older_keyring_adds_the_key_first(old_keyring: Path) -> None:
    keyring = LocalKeyring(old_keyring)
    jwks = keyring.public_jwks()
    assert [jwk["kid"] for jwk in jwks["keys"]] == [keyring.signing_key()[0]]


def test_rotation_makes_a_new_active_key_and_keeps_the_old_one_published(
    tmp_path: Path,
) -> None:
    keyring = LocalKeyring.create(tmp_path / "keyring.json")
    old_kid, old_key = keyring.signing_key()
    new_kid = keyring.rotate_signing_key()
    assert new_kid != old_kid
    assert keyring.signing_key()[0] == new_kid
    assert LocalKeyring(keyring.path).signing_key()[0] == new_kid  # persisted
    kids = [jwk["kid"] for jwk in keyring.public_jwks()["keys"]]
    assert kids == [new_kid, old_kid]  # the active key first
    published_old = next(j for j in keyring.public_jwks()["keys"] if j["kid"] == old_kid)
    assert published_old["x"] == _x(old_key.public_key())
    document = json.loads(keyring.path.read_text())
    assert document["checksum"] == _checksum(document)
    assert keyring.path.stat().st_mode & 0o777 == 0o600


def test_rotating_signing_keys_leaves_the_keks_alone(tmp_path: Path) -> None:
    keyring = LocalKeyring.create(tmp_path / "keyring.json")
    before = json.loads(keyring.path.read_text())
    keyring.rotate_signing_key()
    after = json.loads(keyring.path.read_text())
    for name in ("keks", "active_kek", "blind_index_key", "keyring_id"):
        assert after[name] == before[name]


def test_a_kek_rotation_keeps_the_signing_keys(tmp_path: Path) -> None:
    keyring = LocalKeyring.create(tmp_path / "keyring.json")
    kid, _ = keyring.signing_key()
    keyring.activate_kek(keyring.add_kek())
    assert LocalKeyring(keyring.path).signing_key()[0] == kid


@pytest.mark.parametrize(
    ("damage", "phrase"),
    [
        (lambda d: d["signing_keys"].popitem(), "active signing key is not in the file"),
        (
            lambda d: next(iter(d["signing_keys"].values())).update(private_key="AAAA"),
            "wrong length",
        ),
    ],
)
def test_a_damaged_signing_key_entry_is_refused_even_with_a_matching_checksum(
    tmp_path: Path, damage: object, phrase: str
) -> None:
    path = tmp_path / "keyring.json"
    LocalKeyring.create(path)
    document = json.loads(path.read_text())
    damage(document)  # type: ignore[operator]
    document["checksum"] = _checksum(document)
    path.write_text(json.dumps(document))
    with pytest.raises(KeyringError) as caught:
        LocalKeyring(path)
    assert phrase in str(caught.value)


def test_an_edited_signing_key_breaks_the_checksum(tmp_path: Path) -> None:
    path = tmp_path / "keyring.json"
    LocalKeyring.create(path)
    document = json.loads(path.read_text())
    entry = next(iter(document["signing_keys"].values()))
    entry["private_key"] = base64.b64encode(bytes(32)).decode()
    path.write_text(json.dumps(document))  # checksum left as it was
    with pytest.raises(KeyringError) as caught:
        LocalKeyring(path)
    assert "checksum does not match" in str(caught.value)
