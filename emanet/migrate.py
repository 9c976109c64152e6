"""Schema migrations with Alembic, driven from code (no alembic.ini needed)."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine


def alembic_config(engine: Engine) -> Config:
    """Return an Alembic configuration bound to the engine's URL."""
    config = Config()
    config.set_main_option("script_location", "emanet:migrations")
    config.set_main_option(
        "sqlalchemy.url", engine.url.render_as_string(hide_password=False).replace("%", "%%")
    )
    return config


def upgrade(engine: Engine, revision: str = "head") -> str | None:
    """Bring the database schema up to the revision; return the revision it is at."""
    config = alembic_config(engine)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
    return current_revision(engine)


def current_revision(engine: Engine) -> str | None:
    """Return the revision the database is at (None before the first migration)."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision(engine: Engine) -> str | None:
    """Return the newest revision the code knows."""
    return ScriptDirectory.from_config(alembic_config(engine)).get_current_head()


def new_revision(engine: Engine, message: str) -> str:
    """Write a migration for whatever the models have that the database lacks."""
    config = alembic_config(engine)
    config.set_main_option("file_template", "%%(rev)s_%%(slug)s")
    known = list(ScriptDirectory.from_config(config).walk_revisions())
    script = command.revision(
        config, message=message, autogenerate=True, rev_id=f"{len(known) + 1:04d}"
    )
    return str(getattr(script, "path", script))
