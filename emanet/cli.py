"""The `emanet` command line."""

from __future__ import annotations

import json
import sys
import tempfile
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import click

from emanet import (
    bootstrap,
    cli_audit,
    cli_auditor,
    cli_business,
    cli_retention,
    cli_serve,
    cli_worker,
    migrate,
)
from emanet.database import Database
from emanet.settings import Settings, SettingsError, load_settings
from schemas.field_errors import FieldValueError
from vault.accounts.passwords import PasswordPolicyError
from vault.accounts.services import EmailTakenError, create_customer
from vault.erasure import erase_and_shred
from vault.errors import CustomerNotFoundError
from vault.export import export_vault
from vault.export_zip import VaultZip
from vault.keys.local_keyring import LocalKeyring
from vault.keys.provider import KeyringError
from vault.keys.rotation import KekUsage, key_status, register_active_kek, rotate_kek

json_option = click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")


def emit(as_json: bool, data: dict[str, Any], text: str) -> None:
    """Print a result as JSON or as words for a person."""
    click.echo(json.dumps(data, indent=2, default=str) if as_json else text)


def _settings(ctx: click.Context) -> Settings:
    settings: Settings = ctx.obj
    return settings


@contextmanager
def opened(ctx: click.Context) -> Iterator[bootstrap.Runtime]:
    """Open the runtime, turning set-up problems into a clear message and exit code 1."""
    try:
        runtime = bootstrap.build_runtime(_settings(ctx))
    except KeyringError as exc:
        raise click.ClickException(str(exc)) from None
    try:
        yield runtime
    finally:
        runtime.close()


def progress_bar(label: str) -> Callable[[int, int], None]:
    """Return a progress callback that draws on stderr."""

    def report(done: int, total: int) -> None:
        click.echo(f"\r{label}: {done}/{total}", nl=done >= total, err=True)

    return report


def parse_customer_id(value: str) -> uuid.UUID:
    """Turn the command-line id into a UUID, or say what is wrong."""
    try:
        return uuid.UUID(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a customer id (a UUID).") from None


@click.group()
@click.pass_context
def main(ctx: click.Context) -> None:
    """Emanet: a personal data vault with a consent-based CRM."""
    bootstrap.configure_logging()
    try:
        ctx.obj = load_settings()
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from None


@main.command()
@json_option
@click.pass_context
def init(ctx: click.Context, as_json: bool) -> None:
    """Create the instance folder, secret key, keyring and database schema."""
    settings = _settings(ctx)
    settings.instance_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    created_secret = settings.secret_key is None and bootstrap.write_secret_key(
        settings.secret_key_path
    )
    database = Database.from_url(settings.database_url)
    try:
        created_keyring = False
        if not settings.keyring_path.exists():
            if bootstrap.database_has_keys(database):
                raise click.ClickException(
                    f"The keyring {settings.keyring_path} is missing but the database holds "
                    "data encrypted under it; restore the keyring from backup. A new one "
                    "would make that data unreadable."
                )
            LocalKeyring.create(settings.keyring_path)
            created_keyring = True
        revision = migrate.upgrade(database.engine)
    finally:
        database.dispose()
    with opened(ctx) as runtime:
        kek_id = register_active_kek(runtime.vault)
    emit(
        as_json,
        {
            "instance_dir": str(settings.instance_dir),
            "created_secret_key": created_secret,
            "created_keyring": created_keyring,
            "active_kek": kek_id,
            "schema_revision": revision,
        },
        f"Instance ready in {settings.instance_dir} (schema {revision}, active key {kek_id}).",
    )


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@json_option
@click.pass_context
def db_upgrade(ctx: click.Context, as_json: bool) -> None:
    """Apply every pending migration."""
    database = Database.from_url(_settings(ctx).database_url)
    try:
        before = migrate.current_revision(database.engine)
        after = migrate.upgrade(database.engine)
    finally:
        database.dispose()
    emit(as_json, {"from": before, "to": after}, f"Schema at {after} (was {before}).")


@db.command("revision")
@click.option("--message", "-m", required=True, help="What the migration does.")
def db_revision(message: str) -> None:
    """Write a new migration from the models (for developers; run on an up-to-date database)."""
    with tempfile.TemporaryDirectory() as scratch:
        database = Database.from_url(f"sqlite:///{scratch}/revision.db")
        try:
            migrate.upgrade(database.engine)
            click.echo(migrate.new_revision(database.engine, message))
        finally:
            database.dispose()


@main.group()
def keys() -> None:
    """Key-encryption keys."""


def _kek_state(usage: KekUsage) -> str:
    if usage.active:
        return "active"
    return "old" if usage.in_keyring else "retired"


@keys.command("status")
@json_option
@click.pass_context
def keys_status(ctx: click.Context, as_json: bool) -> None:
    """Show each KEK, whether it is active, and how many data keys it wraps."""
    with opened(ctx) as runtime:
        usages = key_status(runtime.vault)
    rows = [
        {
            "kek_id": u.kek_id,
            "active": u.active,
            "in_keyring": u.in_keyring,
            "registered": u.registered,
            "data_keys": u.data_keys,
            "created_at": u.created_at.isoformat() if u.created_at else None,
        }
        for u in usages
    ]
    text = "\n".join(f"{u.kek_id}  {_kek_state(u):8} wraps {u.data_keys} data keys" for u in usages)
    emit(as_json, {"keks": rows}, text)


@keys.command("rotate")
@click.option("--keep-old", is_flag=True, help="Do not retire the old KEKs afterwards.")
@click.option("--batch-size", default=500, show_default=True, type=click.IntRange(1, 100_000))
@json_option
@click.pass_context
def keys_rotate(ctx: click.Context, keep_old: bool, batch_size: int, as_json: bool) -> None:
    """Create a new KEK, rewrap every data key under it, retire the old ones."""
    with opened(ctx) as runtime:
        report = rotate_kek(
            runtime.vault,
            retire=not keep_old,
            batch_size=batch_size,
            progress=progress_bar("rewrapping data keys"),
        )
    emit(
        as_json,
        {
            "new_kek_id": report.new_kek_id,
            "rewrapped": report.rewrapped,
            "retired": report.retired,
            "still_in_use": report.still_in_use,
        },
        f"Active key {report.new_kek_id}; rewrapped {report.rewrapped} data keys; "
        f"retired {', '.join(report.retired) or 'none'}.",
    )


@main.group()
def customer() -> None:
    """Customer accounts."""


@customer.command("create")
@click.option("--email", required=True)
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@click.option("--locale", type=click.Choice(["en", "az", "tr"]), default="en")
@json_option
@click.pass_context
def customer_create(
    ctx: click.Context, email: str, password_stdin: bool, locale: str, as_json: bool
) -> None:
    """Open a customer account."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    with opened(ctx) as runtime, runtime.vault.unit_of_work() as uow:
        try:
            customer_id = create_customer(uow, email, password, locale=locale)
        except (FieldValueError, PasswordPolicyError, EmailTakenError) as exc:
            raise click.ClickException(str(exc)) from None
    emit(as_json, {"customer_id": str(customer_id)}, f"Created customer {customer_id}.")


@customer.command("export")
@click.argument("customer_id")
@click.option("--output", type=click.Path(dir_okay=False, writable=True), help="Write to a file.")
@click.option("--zip", "as_zip", is_flag=True, help="Write the ZIP the web vault offers.")
@click.pass_context
def customer_export(ctx: click.Context, customer_id: str, output: str | None, as_zip: bool) -> None:
    """Print everything the customer's vault holds, as JSON (or write it as a ZIP)."""
    cid = parse_customer_id(customer_id)
    if as_zip:
        if not output:
            raise click.UsageError("--zip writes a file: add --output FILE.zip")
        with opened(ctx) as runtime:
            try:
                archive = VaultZip(
                    runtime.vault,
                    cid,
                    readme=(
                        f"Emanet vault export of customer {cid}, written by `emanet customer "
                        "export --zip`. vault.json holds everything; each CSV holds one table.\n"
                    ),
                )
            except CustomerNotFoundError as exc:
                raise click.ClickException(str(exc)) from None
            with open(output, "wb") as handle:
                for piece in archive:
                    handle.write(piece)
        return
    with opened(ctx) as runtime, runtime.vault.unit_of_work(write=False) as uow:
        try:
            document = export_vault(uow, cid).model_dump_json(indent=2)
        except CustomerNotFoundError as exc:
            raise click.ClickException(str(exc)) from None
    if output:
        with open(output, "w", encoding="utf-8") as handle:
            handle.write(document + "\n")
    else:
        click.echo(document)


@customer.command("erase")
@click.argument("customer_id")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.option(
    "--defer-shred",
    is_flag=True,
    help="Leave the KEK rotation that makes older copies unreadable to the next "
    "`emanet keys rotate`.",
)
@json_option
@click.pass_context
def customer_erase(
    ctx: click.Context, customer_id: str, yes: bool, defer_shred: bool, as_json: bool
) -> None:
    """Erase a customer by destroying their data key (crypto-shredding)."""
    cid = parse_customer_id(customer_id)
    if not yes:
        click.confirm(f"Erase customer {cid} for ever?", abort=True)
    with opened(ctx) as runtime:
        try:
            report = erase_and_shred(runtime.vault, cid, shred=not defer_shred)
        except CustomerNotFoundError as exc:
            raise click.ClickException(str(exc)) from None
    rotation = report.rotation
    emit(
        as_json,
        {
            "customer_id": str(cid),
            "erased_at": report.erased_at.isoformat(),
            "shredded": rotation is not None,
            "new_kek_id": rotation.new_kek_id if rotation else None,
            "retired": rotation.retired if rotation else [],
        },
        f"Erased customer {cid}"
        + (f"; retired {', '.join(rotation.retired)}." if rotation else "; shred deferred."),
    )


main.add_command(cli_serve.serve)
main.add_command(cli_serve.demo)
main.add_command(cli_audit.audit)
main.add_command(cli_business.business)
main.add_command(cli_worker.worker)
main.add_command(cli_worker.webhook)
main.add_command(cli_retention.retention)
main.add_command(cli_auditor.auditor)


if __name__ == "__main__":
    main()
