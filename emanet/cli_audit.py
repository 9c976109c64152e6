"""`emanet audit`: seal the access log's hash chain and verify it (DESIGN.md invariant 8)."""

from __future__ import annotations

import dataclasses
import json

import click

from vault.access_log.chain import ChainHeadMissingError, seal_pending, verify_chain

json_option = click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")


def _events(count: int) -> str:
    return f"{count} event" if count == 1 else f"{count} events"


@click.group()
def audit() -> None:
    """The tamper-evident access log."""


@audit.command("seal")
@click.option(
    "--settle-seconds",
    default=2.0,
    show_default=True,
    type=click.FloatRange(min=0),
    help="Leave events younger than this for the next run.",
)
@click.option("--batch-size", default=1000, show_default=True, type=click.IntRange(1, 100_000))
@json_option
@click.pass_context
def audit_seal(ctx: click.Context, settle_seconds: float, batch_size: int, as_json: bool) -> None:
    """Chain every settled event that is not sealed yet."""
    # emanet.cli imports this module when it loads, so its helpers are imported on use.
    from emanet.cli import emit, opened

    with opened(ctx) as runtime:
        try:
            sealed = seal_pending(
                runtime.vault, settle_seconds=settle_seconds, batch_size=batch_size
            )
        except ChainHeadMissingError as exc:
            raise click.ClickException(str(exc)) from None
    emit(as_json, {"sealed": sealed}, f"Sealed {_events(sealed)}.")


@audit.command("verify")
@json_option
@click.pass_context
def audit_verify(ctx: click.Context, as_json: bool) -> None:
    """Check that no sealed event was altered, removed or reordered.

    Exits with status 1, naming the first bad event, when one was.
    """
    from emanet.cli import emit, opened

    with opened(ctx) as runtime:
        report = verify_chain(runtime.vault)
    data = dataclasses.asdict(report)
    if report.ok:
        emit(
            as_json,
            data,
            f"The access log is intact: {_events(report.checked)} verified, "
            f"{report.unsealed} not sealed yet.",
        )
        return
    if as_json:
        click.echo(json.dumps(data, indent=2))
    click.echo(f"The access log was tampered with: {report.problem}.", err=True)
    ctx.exit(1)
