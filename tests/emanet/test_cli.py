"""The `emanet` command line: every reporting command also speaks JSON."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from emanet.cli import main

PASSWORD = "correct horse battery staple\n"


@pytest.fixture
def env(database_url: str, tmp_path: Path) -> dict[str, str]:
    return {"EMANET_INSTANCE_DIR": str(tmp_path / "instance"), "EMANET_DATABASE_URL": database_url}


def run(env: dict[str, str], *args: str, stdin: str | None = None) -> Result:
    return CliRunner().invoke(main, list(args), env=env, input=stdin, catch_exceptions=False)


def as_json(result: Result) -> dict[str, object]:
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_init_creates_a_private_keyring_and_secret_once(env: dict[str, str]) -> None:
    first = as_json(run(env, "init", "--json"))
    assert first["created_keyring"] is True and first["created_secret_key"] is True
    instance = Path(env["EMANET_INSTANCE_DIR"])
    for name in ("keyring.json", "secret_key"):
        assert (instance / name).stat().st_mode & 0o777 == 0o600
    second = as_json(run(env, "init", "--json"))
    assert second["created_keyring"] is False
    assert second["active_kek"] == first["active_kek"]
    assert as_json(run(env, "db", "upgrade", "--json"))["to"] == first["schema_revision"]


def test_customer_life_cycle_from_the_command_line(env: dict[str, str], tmp_path: Path) -> None:
    as_json(run(env, "init", "--json"))
    created = as_json(
        run(
            env,
            "customer",
            "create",
            "--email",
            "Rashad@Example.AZ",
            "--password-stdin",
            "--json",
            stdin=PASSWORD,
        )
    )
    customer_id = str(created["customer_id"])
    exported = as_json(run(env, "customer", "export", customer_id))
    assert exported["account"]["email"] == "rashad@example.az"  # type: ignore[index]
    out_file = tmp_path / "export.json"
    assert run(env, "customer", "export", customer_id, "--output", str(out_file)).exit_code == 0
    assert json.loads(out_file.read_text())["account"]["id"] == customer_id

    status = as_json(run(env, "keys", "status", "--json"))
    assert [k["data_keys"] for k in status["keks"]] == [1]  # type: ignore[index]
    rotated = as_json(run(env, "keys", "rotate", "--json"))
    assert rotated["rewrapped"] == 1 and len(rotated["retired"]) == 1  # type: ignore[arg-type]

    erased = as_json(run(env, "customer", "erase", customer_id, "--yes", "--json"))
    assert erased["shredded"] is True and erased["retired"] == [rotated["new_kek_id"]]
    gone = run(env, "customer", "export", customer_id)
    assert gone.exit_code == 1 and "No customer" in gone.output


@pytest.mark.parametrize(
    ("args", "stdin", "phrase"),
    [
        (["customer", "create", "--email", "rashad@", "--password-stdin"], PASSWORD, "e-mail"),
        (
            ["customer", "create", "--email", "a@example.az", "--password-stdin"],
            "short\n",
            "at least 12",
        ),
        (["customer", "export", "not-a-uuid"], None, "not a customer id"),
        (
            ["customer", "erase", "00000000-0000-0000-0000-000000000000", "--yes"],
            None,
            "No customer",
        ),
    ],
)
def test_bad_command_line_input_gets_a_clear_message(
    env: dict[str, str], args: list[str], stdin: str | None, phrase: str
) -> None:
    run(env, "init")
    result = run(env, *args, stdin=stdin)
    assert result.exit_code != 0
    assert phrase in result.output


def test_commands_refuse_to_run_without_a_keyring(env: dict[str, str]) -> None:
    result = run(env, "keys", "status")
    assert result.exit_code == 1
    assert "emanet init" in result.output and "is missing" in result.output


def test_init_never_makes_a_fresh_keyring_over_encrypted_data(env: dict[str, str]) -> None:
    run(env, "init")
    run(env, "customer", "create", "--email", "x@example.org", "--password-stdin", stdin=PASSWORD)
    keyring = Path(env["EMANET_INSTANCE_DIR"]) / "keyring.json"
    keyring.unlink()
    result = run(env, "init")
    assert result.exit_code == 1 and "restore the keyring from backup" in result.output
    assert not keyring.exists()


def test_a_bad_setting_is_named(env: dict[str, str]) -> None:
    result = run({**env, "EMANET_KEY_PROVIDER": "vaultwarden"}, "keys", "status")
    assert result.exit_code == 1 and "EMANET_KEY_PROVIDER" in result.output
