"""Argon2id password hashing (RFC 9106)."""

from __future__ import annotations

from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from argon2.low_level import Type

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 1024


@dataclass(frozen=True)
class Argon2Cost:
    """Argon2id cost; the defaults follow RFC 9106 section 4's second recommended option."""

    time_cost: int = 3
    memory_cost_kib: int = 65536
    parallelism: int = 4


class PasswordPolicyError(ValueError):
    """A new password does not meet the policy; the message says how to fix it."""


class Passwords:
    """Hashes and verifies passwords with Argon2id."""

    def __init__(self, cost: Argon2Cost | None = None) -> None:
        cost = cost or Argon2Cost()
        self._hasher = PasswordHasher(
            time_cost=cost.time_cost,
            memory_cost=cost.memory_cost_kib,
            parallelism=cost.parallelism,
            type=Type.ID,
        )

    @staticmethod
    def check_policy(password: str) -> None:
        """Raise PasswordPolicyError unless the password is acceptable."""
        if len(password) < MIN_PASSWORD_LENGTH:
            raise PasswordPolicyError(
                f"Use at least {MIN_PASSWORD_LENGTH} characters; a few words make a strong one."
            )
        if len(password) > MAX_PASSWORD_LENGTH:
            raise PasswordPolicyError(f"Use at most {MAX_PASSWORD_LENGTH} characters.")

    def hash(self, password: str) -> str:
        """Return an Argon2id hash of a password that meets the policy."""
        self.check_policy(password)
        return self._hasher.hash(password)

    def verify(self, stored_hash: str, password: str) -> bool:
        """Tell whether the password matches the stored hash."""
        try:
            return self._hasher.verify(stored_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, stored_hash: str) -> bool:
        """Tell whether the hash was made with weaker parameters than today's."""
        return self._hasher.check_needs_rehash(stored_hash)
