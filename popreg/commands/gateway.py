"""`popreg gateway`: run the HTTP ingest gateway and manage the communes' tokens."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich import box
from rich.table import Table

from popreg.output import DataDir, console, fail, settings_for
from producers.gateway import (
    issue_province_token,
    issue_token,
    list_tokens,
    revoke_token,
    serve,
)

gateway = typer.Typer(
    no_args_is_help=True, help="Run the HTTP ingest gateway and manage the communes' tokens."
)
token = typer.Typer(no_args_is_help=True, help="Tokens: one per commune, stored hashed.")
gateway.add_typer(token, name="token")


@gateway.command("serve")
def serve_command(data_dir: DataDir = None) -> None:
    """Serve POST /v1/events (OpenAPI at /docs) on the settings' host and port."""
    serve(settings_for(data_dir))


@token.command("issue")
def issue(
    commune: Annotated[
        str, typer.Argument(help="the commune's 5-digit code (with --province: a province's)")
    ],
    code: Annotated[
        list[str] | None,
        typer.Option("--code", help="another code it may publish for (e.g. a pre-2025 code)"),
    ] = None,
    province: Annotated[
        bool,
        typer.Option(
            "--province",
            help="a province-level token: every commune of the province, whose records"
            " it may also correct",
        ),
    ] = False,
    data_dir: DataDir = None,
) -> None:
    """Issue a token for a commune (or a province); it is shown once and stored only as
    a hash."""
    settings = settings_for(data_dir)
    try:
        if province:
            secret = issue_province_token(settings, commune)
        else:
            secret = issue_token(settings, commune, code or [])
    except ValueError as error:
        raise fail(str(error)) from None
    holder = f"province {commune}" if province else f"commune {commune}"
    console.print(f"token for {holder} (shown once, keep it safe):")
    typer.echo(secret)


@token.command("revoke")
def revoke(holder: str, data_dir: DataDir = None) -> None:
    """Revoke every token of a commune or province (by its code); the running gateway
    refuses them at once."""
    count = revoke_token(settings_for(data_dir), holder)
    if count == 0:
        raise fail(f"no token belongs to {holder}")
    console.print(f"revoked {count} token(s) of {holder}")


@token.command("list")
def list_command(
    data_dir: DataDir = None,
    as_json: Annotated[bool, typer.Option("--json", help="machine-readable output")] = False,
) -> None:
    """The communes holding tokens and the codes each may publish for (no secrets)."""
    grants = list_tokens(settings_for(data_dir))
    if as_json:
        typer.echo(json.dumps([g.model_dump(mode="json") for g in grants], indent=2))
        return
    table = Table("holder", "codes", "issued at", box=box.SIMPLE_HEAD)
    for grant in grants:
        table.add_row(grant.holder, grant.scope, grant.issued_at.isoformat())
    console.print(table)
