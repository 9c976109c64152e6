"""Fixtures for the vault's web pages: an app on the test database and a signed-in client."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest
from flask.testing import FlaskClient

from emanet.bootstrap import Runtime
from tests.broker.oauth_helpers import csrf_token, sign_in
from tests.conftest import make_customer

__all__ = ["csrf_token"]


@pytest.fixture
def signed_in(client: FlaskClient, runtime: Runtime) -> Callable[..., uuid.UUID]:
    """Create a customer (with an optional profile) and sign the client in as them."""

    def sign_in_as(email: str = "aysel@example.az", profile: dict | None = None) -> uuid.UUID:
        customer_id = make_customer(runtime.vault, email=email, profile=profile)
        sign_in(client, email)
        return customer_id

    return sign_in_as
