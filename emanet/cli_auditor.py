"""`emanet auditor …`: operator-level auditors of the compliance console."""

from __future__ import annotations

import sys

import click

from business_portal.compliance.services.auditors import (
    AuditorEmailTakenError,
    auditor_in,
    create_auditor,
    set_auditor_disabled,
)
from vault.accounts.passwords import PasswordPolicyError

json_option = click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")


@click.group()
def auditor() -> None:
    """Auditors who read every business's agreements (by pseudonymous ids only)."""


@auditor.command("create")
@click.option("--email", required=True)
@click.option("--name", "display_name", default=None, help="Shown in the review history.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@json_option
@click.pass_context
def auditor_create(
    ctx: click.Context, email: str, display_name: str | None, password_stdin: bool, as_json: bool
) -> None:
    """Create an auditor who signs in at /portal/compliance/login."""
    # emanet.cli imports this module when it loads, so its helpers are imported on use.
    from emanet.cli import emit, opened

    try:
        details = auditor_in(email, display_name)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    with opened(ctx) as runtime, runtime.vault.unit_of_work() as uow:
        try:
            auditor_id = create_auditor(uow, details, password)
        except (AuditorEmailTakenError, PasswordPolicyError) as exc:
            raise click.ClickException(str(exc)) from None
    emit(as_json, {"auditor_id": str(auditor_id)}, f"Created auditor {auditor_id}.")


@auditor.command("disable")
@click.option("--email", required=True)
@click.option("--enable", is_flag=True, help="Enable the auditor again instead.")
@click.pass_context
def auditor_disable(ctx: click.Context, email: str, enable: bool) -> None:
    """Stop (or allow again) an auditor's sign-in."""
    from emanet.cli import opened

    with opened(ctx) as runtime, runtime.vault.unit_of_work() as uow:
        if not set_auditor_disabled(uow, email, disabled=not enable):
            raise click.ClickException(f"No auditor has the e-mail address {email}.")
    click.echo(f"Auditor {email} {'enabled' if enable else 'disabled'}.")
