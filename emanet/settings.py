"""Settings read from environment variables, with safe defaults."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from vault.accounts.passwords import Argon2Cost

KEY_PROVIDERS = ("local",)


class SettingsError(ValueError):
    """A setting has a value Emanet cannot use."""


@dataclass(frozen=True)
class Settings:
    """Everything the app and the CLI need to know about their environment."""

    instance_dir: Path
    database_url: str
    secret_key: str | None
    key_provider: str = "local"
    dek_cache_size: int = 10_000
    dek_cache_ttl_seconds: float = 300.0
    argon2: Argon2Cost = field(default_factory=Argon2Cost)
    mode: str = "production"
    issuer: str = "http://127.0.0.1:5000"

    @property
    def keyring_path(self) -> Path:
        return self.instance_dir / "keyring.json"

    @property
    def secret_key_path(self) -> Path:
        return self.instance_dir / "secret_key"

    def with_overrides(self, **changes: object) -> Settings:
        """Return a copy with some settings changed (used by tests and the CLI)."""
        return replace(self, **changes)


def _int(env: Mapping[str, str], name: str, default: int, minimum: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a whole number, not {raw!r}.") from None
    if value < minimum:
        raise SettingsError(f"{name} must be at least {minimum}, not {value}.")
    return value


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Read settings from the environment (or the mapping given)."""
    env = os.environ if env is None else env
    instance_dir = Path(env.get("EMANET_INSTANCE_DIR") or "instance").resolve()
    database_url = env.get("EMANET_DATABASE_URL") or f"sqlite:///{instance_dir / 'emanet.db'}"
    key_provider = env.get("EMANET_KEY_PROVIDER") or "local"
    if key_provider not in KEY_PROVIDERS:
        raise SettingsError(
            f"EMANET_KEY_PROVIDER={key_provider!r} is not supported; use one of: "
            + ", ".join(KEY_PROVIDERS)
            + "."
        )
    mode = env.get("EMANET_MODE") or "production"
    if mode not in ("production", "demo", "test"):
        raise SettingsError(f"EMANET_MODE must be production, demo or test, not {mode!r}.")
    return Settings(
        instance_dir=instance_dir,
        database_url=database_url,
        secret_key=env.get("EMANET_SECRET_KEY") or None,
        key_provider=key_provider,
        dek_cache_size=_int(env, "EMANET_DEK_CACHE_SIZE", 10_000, 0),
        dek_cache_ttl_seconds=float(_int(env, "EMANET_DEK_CACHE_TTL", 300, 0)),
        mode=mode,
        issuer=(env.get("EMANET_ISSUER") or "http://127.0.0.1:5000").rstrip("/"),
    )
