"""`emanet audit`: seal the access log into its Merkle tree, verify it, hand out proofs
(DESIGN.md invariant 8)."""

from __future__ import annotations

import dataclasses
import json
import sys

import click

from vault.access_log.checkpoints import latest_checkpoint
from vault.access_log.proofs import inclusion_bundle
from vault.access_log.sealer import (
    CHECKPOINT_EVERY,
    CHECKPOINT_SECONDS,
    TreeHeadMissingError,
    seal_pending,
)
from vault.access_log.verify import verify_log

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
@click.option(
    "--checkpoint-every",
    default=CHECKPOINT_EVERY,
    show_default=True,
    type=click.IntRange(1, 10_000_000),
    help="Sign a checkpoint once this many events were sealed since the last one.",
)
@click.option(
    "--checkpoint-seconds",
    default=CHECKPOINT_SECONDS,
    show_default=True,
    type=click.FloatRange(min=0),
    help="Sign a checkpoint once this long has passed since the last one, if the log grew.",
)
@json_option
@click.pass_context
def audit_seal(
    ctx: click.Context,
    settle_seconds: float,
    batch_size: int,
    checkpoint_every: int,
    checkpoint_seconds: float,
    as_json: bool,
) -> None:
    """Append every settled event that is not sealed yet to the tree; sign checkpoints."""
    # emanet.cli imports this module when it loads, so its helpers are imported on use.
    from emanet.cli import emit, opened

    with opened(ctx) as runtime:
        try:
            sealed = seal_pending(
                runtime.vault,
                settle_seconds=settle_seconds,
                batch_size=batch_size,
                checkpoint_every=checkpoint_every,
                checkpoint_seconds=checkpoint_seconds,
            )
        except TreeHeadMissingError as exc:
            raise click.ClickException(str(exc)) from None
        with runtime.vault.unit_of_work(write=False) as uow:
            latest = latest_checkpoint(uow.session)
    data = {
        "sealed": sealed,
        "checkpoint": latest.as_json() if latest is not None else None,
    }
    signed = f" The newest checkpoint covers {latest.tree_size}." if latest else ""
    emit(as_json, data, f"Sealed {_events(sealed)}.{signed}")


@audit.command("verify")
@click.option("--batch-size", default=5000, show_default=True, type=click.IntRange(1, 100_000))
@json_option
@click.pass_context
def audit_verify(ctx: click.Context, batch_size: int, as_json: bool) -> None:
    """Rebuild the tree from the events and check every checkpoint's signature and root.

    Exits with status 1, naming the first bad event or checkpoint, when something was
    altered, removed or reordered.
    """
    from emanet.cli import emit, opened, progress_bar

    progress = progress_bar("Verifying") if sys.stderr.isatty() else None
    with opened(ctx) as runtime:
        report = verify_log(runtime.vault, batch_size=batch_size, progress=progress)
    data = dataclasses.asdict(report)
    if report.ok:
        emit(
            as_json,
            data,
            f"The access log is intact: {_events(report.checked)} verified against "
            f"{report.checkpoints} signed checkpoints (root {report.root_hash}); "
            f"{report.unsigned} sealed since the last checkpoint, {report.unsealed} not "
            "sealed yet.",
        )
        return
    if as_json:
        click.echo(json.dumps(data, indent=2))
    click.echo(f"The access log was tampered with: {report.problem}.", err=True)
    ctx.exit(1)


@audit.command("proof")
@click.argument("seq", type=click.IntRange(min=1))
@click.pass_context
def audit_proof(ctx: click.Context, seq: int) -> None:
    """Print the inclusion proof of event SEQ under the newest checkpoint, as JSON."""
    from emanet.cli import opened

    with opened(ctx) as runtime:
        vault = runtime.vault
        with vault.unit_of_work(write=False) as uow:
            bundle = inclusion_bundle(
                uow.session,
                seq,
                customer_id=None,
                jwks_uri=vault.issuer.rstrip("/") + "/.well-known/jwks.json",
            )
    if bundle is None:
        raise click.ClickException(
            f"Event {seq} has no proof yet: it does not exist, is not sealed, or no checkpoint "
            "covers it yet (run `emanet audit seal`)."
        )
    click.echo(json.dumps(bundle, indent=2, ensure_ascii=False))
