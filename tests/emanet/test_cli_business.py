"""`emanet business …` from the command line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from emanet.cli import main


@pytest.fixture
def env(database_url: str, tmp_path: Path) -> dict[str, str]:
    environment = {
        "EMANET_INSTANCE_DIR": str(tmp_path / "instance"),
        "EMANET_DATABASE_URL": database_url,
    }
    assert CliRunner().invoke(main, ["init"], env=environment).exit_code == 0
    return environment


def run(env: dict[str, str], *args: str, stdin: str | None = None) -> Result:
    return CliRunner().invoke(main, list(args), env=env, input=stdin)


def test_business_create_prints_the_client_secret_once_and_add_staff_works(
    env: dict[str, str],
) -> None:
    created = run(
        env,
        "business",
        "create",
        "--name",
        "Köhnə Şəhər Antikvarları",
        "--country",
        "AZ",
        "--privacy-email",
        "privacy@antiques.example",
        "--redirect-uri",
        "https://antiques.example/callback",
        "--json",
    )
    assert created.exit_code == 0, created.output
    body = json.loads(created.stdout)
    assert body["client_id"].startswith("emc_") and len(body["client_secret"]) >= 40
    staff = run(
        env,
        "business",
        "add-staff",
        "--business",
        body["business_id"],
        "--email",
        "nigar@antiques.example",
        "--name",
        "Nigar",
        "--role",
        "compliance",
        "--password-stdin",
        "--json",
        stdin="a long staff password\n",
    )
    assert staff.exit_code == 0, staff.output
    again = run(
        env,
        "business",
        "add-staff",
        "--business",
        body["business_id"],
        "--email",
        "NIGAR@antiques.example",
        "--name",
        "Nigar",
        "--role",
        "agent",
        "--password-stdin",
        stdin="a long staff password\n",
    )
    assert again.exit_code == 1 and "already exists" in again.output


@pytest.mark.parametrize(
    ("args", "phrase"),
    [
        (["--country", "XX"], "country"),
        (["--privacy-email", "not-an-email"], "privacy_email"),
        (["--redirect-uri", "http://shop.example/cb"], "https"),
        (["--redirect-uri", "https://shop.example/cb#x"], "fragment"),
    ],
)
def test_business_create_names_what_is_wrong(
    env: dict[str, str], args: list[str], phrase: str
) -> None:
    base = {
        "--name": "Bazar",
        "--country": "AZ",
        "--privacy-email": "p@bazar.example",
        "--redirect-uri": "https://bazar.example/cb",
    }
    base[args[0]] = args[1]
    result = run(env, "business", "create", *[x for kv in base.items() for x in kv])
    assert result.exit_code == 1 and phrase in result.output
