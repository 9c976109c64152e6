"""`emanet business …`: register businesses, their staff and OAuth clients."""

from __future__ import annotations

import sys
import uuid

import click
from pydantic import ValidationError

from broker.businesses.services import (
    BusinessNotFoundError,
    StaffEmailTakenError,
    add_staff,
    create_business,
    register_client,
)
from schemas.businesses import BusinessIn, ClientIn, StaffIn, StaffRole
from vault.accounts.passwords import PasswordPolicyError

json_option = click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")


def _invalid(exc: ValidationError) -> click.ClickException:
    lines = [f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()]
    return click.ClickException("\n".join(lines))


def _business_id(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a business id (a UUID).") from None


@click.group()
def business() -> None:
    """Businesses, their staff and their OAuth clients."""


@business.command("create")
@click.option("--name", required=True, help="Legal name.")
@click.option("--country", required=True, help="ISO 3166 country code, e.g. AZ.")
@click.option("--privacy-email", required=True)
@click.option("--privacy-address", default="", help="Postal address of the privacy contact.")
@click.option("--policy-url", default="", help="Privacy policy (default: derived from e-mail).")
@click.option("--redirect-uri", "redirect_uris", multiple=True, required=True)
@json_option
@click.pass_context
def business_create(
    ctx: click.Context,
    name: str,
    country: str,
    privacy_email: str,
    privacy_address: str,
    policy_url: str,
    redirect_uris: tuple[str, ...],
    as_json: bool,
) -> None:
    """Register a business and its first OAuth client; the secret is printed once."""
    from emanet.cli import emit, opened

    domain = privacy_email.rpartition("@")[2]
    try:
        details = BusinessIn(
            legal_name=name,
            country=country,
            privacy_email=privacy_email,
            privacy_address=privacy_address or f"{name}, {country}",
            policy_url=policy_url or f"https://{domain}/privacy",
        )
        client = ClientIn(name=f"{name} (first client)", redirect_uris=list(redirect_uris))
    except ValidationError as exc:
        raise _invalid(exc) from None
    with opened(ctx) as runtime, runtime.vault.unit_of_work() as uow:
        business_id, issued = create_business(uow, details, client)
    emit(
        as_json,
        {
            "business_id": str(business_id),
            "client_id": issued.client_id,
            "client_secret": issued.client_secret,
        },
        f"Business {business_id}\nclient_id:     {issued.client_id}\n"
        f"client_secret: {issued.client_secret}\n(The secret is shown only now; keep it safe.)",
    )


@business.command("add-client")
@click.option("--business", "business_id", required=True)
@click.option("--name", required=True)
@click.option("--redirect-uri", "redirect_uris", multiple=True, required=True)
@json_option
@click.pass_context
def business_add_client(
    ctx: click.Context,
    business_id: str,
    name: str,
    redirect_uris: tuple[str, ...],
    as_json: bool,
) -> None:
    """Register another OAuth client for a business."""
    from emanet.cli import emit, opened

    try:
        client = ClientIn(name=name, redirect_uris=list(redirect_uris))
    except ValidationError as exc:
        raise _invalid(exc) from None
    with opened(ctx) as runtime, runtime.vault.unit_of_work() as uow:
        issued = register_client(uow, _business_id(business_id), client, actor="operator")
        uow.commit()
    emit(
        as_json,
        {"client_id": issued.client_id, "client_secret": issued.client_secret},
        f"client_id:     {issued.client_id}\nclient_secret: {issued.client_secret}",
    )


@business.command("add-staff")
@click.option("--business", "business_id", required=True)
@click.option("--email", required=True)
@click.option("--name", "display_name", required=True)
@click.option("--role", type=click.Choice([r.value for r in StaffRole]), required=True)
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@json_option
@click.pass_context
def business_add_staff(
    ctx: click.Context,
    business_id: str,
    email: str,
    display_name: str,
    role: str,
    password_stdin: bool,
    as_json: bool,
) -> None:
    """Add a staff user (owner, agent, compliance or viewer) to a business."""
    from emanet.cli import emit, opened

    try:
        staff = StaffIn(email=email, display_name=display_name, role=StaffRole(role))
    except ValidationError as exc:
        raise _invalid(exc) from None
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    with opened(ctx) as runtime, runtime.vault.unit_of_work() as uow:
        try:
            staff_id = add_staff(uow, _business_id(business_id), staff, password)
        except (BusinessNotFoundError, StaffEmailTakenError, PasswordPolicyError) as exc:
            raise click.ClickException(str(exc)) from None
    emit(as_json, {"staff_id": str(staff_id)}, f"Added staff user {staff_id} ({role}).")
