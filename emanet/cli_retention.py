"""`emanet retention run`: delete business records whose agreement's retention has run out."""

from __future__ import annotations

import click

from business_portal.records.retention import run_retention

json_option = click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")


@click.group()
def retention() -> None:
    """Storage limitation for the business portal's own records."""


@retention.command("run")
@json_option
@click.pass_context
def retention_run(ctx: click.Context, as_json: bool) -> None:
    """Delete deals, tasks, notes, tags and scores whose retention has ended; log each."""
    # emanet.cli imports this module when it loads, so its helpers are imported on use.
    from emanet.cli import emit, opened

    with opened(ctx) as runtime:
        deletions = run_retention(runtime.vault)
    lines = [
        f"{d.business_id} {d.subject}: "
        + ", ".join(f"{name} {count}" for name, count in sorted(d.counts.items()))
        for d in deletions
    ]
    lines.append(f"Deleted the records of {len(deletions)} customer(s) whose retention ended.")
    data = {
        "deleted": [
            {
                "business_id": str(d.business_id),
                "subject": d.subject,
                "due_at": d.due_at.isoformat(),
                "counts": d.counts,
            }
            for d in deletions
        ]
    }
    emit(as_json, data, "\n".join(lines))
