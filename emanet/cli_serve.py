"""`emanet serve` and `emanet demo`: run the app under gunicorn."""

from __future__ import annotations

import os
from typing import Any

import click
from flask import Flask
from gunicorn.app.base import BaseApplication

from emanet import bootstrap
from emanet.settings import load_settings


class EmanetServer(BaseApplication):
    """Gunicorn running `create_app()` in each worker."""

    def __init__(self, options: dict[str, Any], app_config: dict[str, Any] | None = None) -> None:
        self.app_config = app_config
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Flask:
        from emanet.app import create_app

        return create_app(self.app_config)


def run_server(
    host: str, port: int, workers: int, app_config: dict[str, Any] | None = None
) -> None:
    """Serve until interrupted; `app_config` overrides Flask settings of every worker's app."""
    EmanetServer(
        {
            "bind": f"{host}:{port}",
            "workers": workers,
            "accesslog": "-",
            "errorlog": "-",
            "timeout": 60,
            # gunicorn's control socket sits at one path per user; two servers would collide.
            "control_socket_disable": True,
        },
        app_config,
    ).run()


host_option = click.option("--host", default="127.0.0.1", show_default=True)
port_option = click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65535))
workers_option = click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 64))


@click.command()
@host_option
@port_option
@workers_option
def serve(host: str, port: int, workers: int) -> None:
    """Serve Emanet with gunicorn."""
    run_server(host, port, workers)


@click.command()
@host_option
@port_option
@workers_option
@click.option("--no-serve", is_flag=True, help="Prepare the demo data, then stop.")
@click.pass_context
def demo(ctx: click.Context, host: str, port: int, workers: int, no_serve: bool) -> None:
    """Initialise the instance, load demo data and serve it."""
    from emanet.cli import init
    from emanet.demo_broker import seed_broker_demo
    from emanet.demo_data import DEMO_PASSWORD, seed_demo
    from emanet.demo_portal import seed_portal_demo
    from vault.access_log.sealer import seal_pending

    os.environ.setdefault("EMANET_MODE", "demo")
    ctx.obj = load_settings()
    ctx.invoke(init, as_json=False)
    runtime = bootstrap.build_runtime(ctx.obj)
    try:
        created = seed_demo(runtime.vault, progress=_progress)
        businesses = seed_broker_demo(runtime.vault, ctx.obj.instance_dir, DEMO_PASSWORD)
        if businesses:
            seed_portal_demo(runtime.vault)
            # Sign a checkpoint over everything now, so every demo event has its proof.
            seal_pending(runtime.vault, settle_seconds=0, checkpoint_seconds=0)
    finally:
        runtime.close()
    click.echo(
        f"Demo data: {created} new customers and {businesses} businesses "
        f"(password for every demo account: {DEMO_PASSWORD}). OAuth client credentials: "
        f"{ctx.obj.instance_dir / 'demo-credentials.json'}"
        if created
        else "Demo data already loaded."
    )
    if not no_serve:
        click.echo(f"Emanet is running on http://{host}:{port}/  (Ctrl+C stops it)")
        run_server(host, port, workers)


def _progress(done: int, total: int) -> None:
    click.echo(f"\rloading demo customers: {done}/{total}", nl=done >= total, err=True)
