"""Time-based one-time passwords (RFC 6238) for two-factor sign-in, and their set-up QR code.

HMAC-SHA1, 30-second steps, 6 digits (RFC 6238 §4, the values every authenticator app
uses). A code is accepted one step either side of now (§5.2 allows for clock drift and
slow typing), and the step it matched is returned so that the caller can refuse the same
code a second time (§5.2: "the verifier MUST NOT accept the second attempt of the OTP").
"""

from __future__ import annotations

import hmac
import re
from datetime import datetime

import pyotp
import segno

STEP_SECONDS = 30
DIGITS = 6
DRIFT_STEPS = 1
ISSUER = "Emanet"
_CODE = re.compile(r"\d{6}")

__all__ = [
    "DIGITS",
    "STEP_SECONDS",
    "is_code_shaped",
    "matching_step",
    "new_secret",
    "provisioning_uri",
    "qr_data_uri",
    "spaced_secret",
]


def new_secret() -> str:
    """Return a fresh shared secret: 160 random bits in base32 (RFC 4226 §4 R6)."""
    return pyotp.random_base32(32)


def normalise_code(code: str) -> str:
    """Drop the spaces and dashes people type inside a code."""
    return re.sub(r"[\s-]", "", code or "")


def is_code_shaped(text: str) -> bool:
    """Tell whether the text looks like a six-digit code (and so is not a password)."""
    return _CODE.fullmatch(normalise_code(text)) is not None


def matching_step(secret: str, code: str, at: datetime) -> int | None:
    """Return the time step the code was made for, within a step of `at`, or None."""
    code = normalise_code(code)
    if _CODE.fullmatch(code) is None:
        return None
    otp = pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS)
    now_step = otp.timecode(int(at.timestamp()))
    matched = None
    for step in range(now_step - DRIFT_STEPS, now_step + DRIFT_STEPS + 1):
        # Compare every candidate, so the time taken does not tell which one matched.
        if hmac.compare_digest(otp.generate_otp(step), code):
            matched = step
    return matched


def provisioning_uri(secret: str, account_name: str) -> str:
    """Return the otpauth:// address an authenticator app reads from the QR code."""
    otp = pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS)
    return otp.provisioning_uri(name=account_name, issuer_name=ISSUER)


def qr_data_uri(uri: str) -> str:
    """Return the address as a QR code in an SVG `data:` URI (the CSP allows data: images)."""
    return segno.make(uri, error="m").svg_data_uri(scale=5, border=2, dark="#1d2733")


def spaced_secret(secret: str) -> str:
    """Return the secret in groups of four letters, easier to type by hand."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))
