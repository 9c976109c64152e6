"""A versioned keyring file kept in the instance folder, outside the database.

It holds the key-encryption keys, the blind-index key and the Ed25519 keys that sign consent
receipts (`signing_keys`, added to older files on first use).
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import hashlib
import hmac
import json
import os
import secrets
import stat
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from vault.keys import aead
from vault.keys.provider import (
    KekInfo,
    KeyringError,
    UnknownKeyError,
    UnwrapError,
    WrappedKey,
    ed25519_public_jwk,
)

FORMAT = "emanet-keyring/1"
HOW_TO_RESTORE = (
    "Restore the keyring file from your backup, or set EMANET_INSTANCE_DIR to the folder "
    "that holds it. Never replace it with a new one: data encrypted under the old keys "
    "would be lost."
)


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def _unb64(text: str) -> bytes:
    return base64.b64decode(text.encode(), validate=True)


def _checksum(document: dict[str, Any]) -> str:
    body = {k: v for k, v in document.items() if k != "checksum"}
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
    return hashlib.sha256(canonical).hexdigest()


def _new_kek_id(now: datetime) -> str:
    return f"kek-{now:%Y%m%d}-{secrets.token_hex(4)}"


def _add_signing_key(document: dict[str, Any], now: datetime) -> str:
    """Add a new Ed25519 key to the document and make it the active signing key."""
    kid = f"sig-{now:%Y%m%d}-{secrets.token_hex(4)}"
    # An Ed25519 private key is 32 random bytes (RFC 8032 §5.1.5).
    entry = {"private_key": _b64(secrets.token_bytes(32)), "created_at": now.isoformat()}
    document.setdefault("signing_keys", {})[kid] = entry
    document["active_signing_key"] = kid
    return kid


class LocalKeyring:
    """Key-encryption keys in a JSON file (mode 0600) that is re-read when it changes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._stamp: tuple[int, int, int] | None = None
        self._document: dict[str, Any] = {}
        self._keks: dict[str, bytes] = {}
        self._signing: dict[str, Ed25519PrivateKey] = {}
        self._reload_if_changed()

    @classmethod
    def create(cls, path: Path) -> LocalKeyring:
        """Write a new keyring file; refuse if one is already there."""
        now = datetime.now(UTC)
        kek_id = _new_kek_id(now)
        document: dict[str, Any] = {
            "format": FORMAT,
            "keyring_id": secrets.token_hex(16),
            "created_at": now.isoformat(),
            "active_kek": kek_id,
            "keks": {kek_id: {"key": _b64(aead.new_key()), "created_at": now.isoformat()}},
            "blind_index_key": _b64(secrets.token_bytes(32)),
        }
        _add_signing_key(document, now)
        document["checksum"] = _checksum(document)
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            raise KeyringError(
                f"A keyring already exists at {path}; it was left as it is."
            ) from None
        with os.fdopen(fd, "w") as handle:
            json.dump(document, handle, indent=2)
            handle.flush()
            os.fsync(handle.fileno())
        return cls(path)

    # -- reading ---------------------------------------------------------------------------

    def _reload_if_changed(self) -> None:
        try:
            info = self.path.stat()
        except FileNotFoundError:
            raise KeyringError(
                f"The keyring file {self.path} is missing. Run `emanet init` on a new "
                f"installation. {HOW_TO_RESTORE}"
            ) from None
        stamp = (info.st_mtime_ns, info.st_size, info.st_ino)
        if stamp == self._stamp:
            return
        if info.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise KeyringError(
                f"The keyring file {self.path} can be read by other users. "
                f"Run `chmod 600 {self.path}` and start again."
            )
        document = self._parse(self.path.read_bytes())
        self._document = document
        self._keks = {kid: _unb64(entry["key"]) for kid, entry in document["keks"].items()}
        self._signing = {
            kid: Ed25519PrivateKey.from_private_bytes(_unb64(entry["private_key"]))
            for kid, entry in document.get("signing_keys", {}).items()
        }
        self._stamp = stamp

    def _parse(self, raw: bytes) -> dict[str, Any]:
        corrupt = f"The keyring file {self.path} is corrupted"
        try:
            document = json.loads(raw)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise KeyringError(f"{corrupt} (not JSON: {exc}). {HOW_TO_RESTORE}") from None
        if not isinstance(document, dict) or document.get("format") != FORMAT:
            raise KeyringError(f"{corrupt} (not an {FORMAT} file). {HOW_TO_RESTORE}")
        if not hmac.compare_digest(str(document.get("checksum", "")), _checksum(document)):
            raise KeyringError(f"{corrupt} (its checksum does not match). {HOW_TO_RESTORE}")
        try:
            keks = document["keks"]
            if document["active_kek"] not in keks:
                raise ValueError("the active key is not in the file")
            for entry in keks.values():
                if len(_unb64(entry["key"])) != aead.KEY_BYTES:
                    raise ValueError("a key has the wrong length")
            if len(_unb64(document["blind_index_key"])) != 32:
                raise ValueError("the blind-index key has the wrong length")
            signing = document.get("signing_keys", {})
            for entry in signing.values():
                if len(_unb64(entry["private_key"])) != 32:
                    raise ValueError("a signing key has the wrong length")
            if (signing or "active_signing_key" in document) and (
                document.get("active_signing_key") not in signing
            ):
                raise ValueError("the active signing key is not in the file")
        except (KeyError, TypeError, ValueError) as exc:
            raise KeyringError(f"{corrupt} ({exc}). {HOW_TO_RESTORE}") from None
        return document

    @property
    def keyring_id(self) -> str:
        with self._lock:
            self._reload_if_changed()
            return str(self._document["keyring_id"])

    @property
    def active_kek_id(self) -> str:
        with self._lock:
            self._reload_if_changed()
            return str(self._document["active_kek"])

    def wrap(self, key: bytes, aad: bytes) -> WrappedKey:
        """Seal a data key under the active key-encryption key."""
        with self._lock:
            self._reload_if_changed()
            kek_id = str(self._document["active_kek"])
            return WrappedKey(kek_id, aead.seal(self._keks[kek_id], key, aad))

    def unwrap(self, wrapped: WrappedKey, aad: bytes) -> bytes:
        """Open a data key sealed by `wrap`."""
        with self._lock:
            if wrapped.kek_id not in self._keks:
                self._reload_if_changed()
            kek = self._keks.get(wrapped.kek_id)
        if kek is None:
            raise UnknownKeyError(
                f"The keyring {self.path} does not hold key {wrapped.kek_id}. {HOW_TO_RESTORE}"
            )
        try:
            return aead.unseal(kek, wrapped.blob, aad)
        except aead.DecryptionError:
            raise UnwrapError(f"A data key does not unwrap under {wrapped.kek_id}.") from None

    def blind_index(self, purpose: str, value: bytes) -> bytes:
        """Return a keyed HMAC-SHA256 of the value, separate per purpose."""
        with self._lock:
            self._reload_if_changed()
            key = _unb64(self._document["blind_index_key"])
        purpose_key = hmac.digest(key, purpose.encode(), "sha256")
        return hmac.digest(purpose_key, value, "sha256")

    def list_keks(self) -> list[KekInfo]:
        """Describe every key-encryption key in the file, oldest first."""
        with self._lock:
            self._reload_if_changed()
            active = self._document["active_kek"]
            entries = self._document["keks"].items()
            infos = [
                KekInfo(kid, datetime.fromisoformat(entry["created_at"]), kid == active)
                for kid, entry in entries
            ]
        return sorted(infos, key=lambda info: (info.created_at, info.kek_id))

    def signing_key(self) -> tuple[str, Ed25519PrivateKey]:
        """Return the active receipt-signing key and its key id, creating one if none exists."""
        with self._lock:
            self._reload_if_changed()
            kid = self._document.get("active_signing_key")
            if kid in self._signing:
                return str(kid), self._signing[kid]
        # A keyring written before receipts existed: add the key under the writers' lock.
        with self._exclusive() as document:
            if document.get("active_signing_key") not in document.get("signing_keys", {}):
                _add_signing_key(document, datetime.now(UTC))
        with self._lock:
            kid = str(self._document["active_signing_key"])
            return kid, self._signing[kid]

    def public_jwks(self) -> dict[str, Any]:
        """Return every signing key's public half as an RFC 7517 JWK Set, active key first."""
        active, _ = self.signing_key()
        with self._lock:
            entries = self._document["signing_keys"]
            kids = sorted(entries, key=lambda kid: (kid != active, entries[kid]["created_at"]))
            keys = [ed25519_public_jwk(kid, self._signing[kid].public_key()) for kid in kids]
        return {"keys": keys}

    # -- changing --------------------------------------------------------------------------

    @contextlib.contextmanager
    def _exclusive(self) -> Iterator[dict[str, Any]]:
        # A lock file serialises writers across processes; readers notice the new file by its
        # changed stamp, because it replaces the old one with an atomic rename.
        lock_path = self.path.with_suffix(".lock")
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            with self._lock:
                self._stamp = None
                self._reload_if_changed()
                before = _checksum(self._document)
                document = json.loads(json.dumps(self._document))
            yield document
            if _checksum(document) == before:
                return  # nothing changed: leave the file (and every reader's cache) alone
            document["checksum"] = _checksum(document)
            self._replace_file(document)
            with self._lock:
                self._reload_if_changed()
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    def _replace_file(self, document: dict[str, Any]) -> None:
        temporary = self.path.with_suffix(f".tmp-{secrets.token_hex(4)}")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump(document, handle, indent=2)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, self.path)
        directory = os.open(self.path.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)

    def add_kek(self) -> str:
        """Create a new, not yet active key-encryption key and return its id."""
        now = datetime.now(UTC)
        kek_id = _new_kek_id(now)
        with self._exclusive() as document:
            document["keks"][kek_id] = {"key": _b64(aead.new_key()), "created_at": now.isoformat()}
        return kek_id

    def activate_kek(self, kek_id: str) -> None:
        """Make a key-encryption key the one new data keys are wrapped with."""
        with self._exclusive() as document:
            if kek_id not in document["keks"]:
                raise UnknownKeyError(f"The keyring {self.path} does not hold key {kek_id}.")
            document["active_kek"] = kek_id

    def remove_kek(self, kek_id: str) -> None:
        """Destroy a key-encryption key that is no longer active."""
        with self._exclusive() as document:
            if document["active_kek"] == kek_id:
                raise KeyringError(f"{kek_id} is the active key and cannot be retired.")
            document["keks"].pop(kek_id, None)

    def rotate_signing_key(self) -> str:
        """Create a new active signing key and return its id; older keys stay published."""
        with self._exclusive() as document:
            return _add_signing_key(document, datetime.now(UTC))
