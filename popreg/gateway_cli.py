"""`popreg gateway`: run the HTTP ingest gateway and manage the communes' tokens."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich import box
from rich.table import Table

from popreg.output import DataDir, console, fail, settings_for
from producers.gateway import issue_token, list_tokens, revoke_token, serve

gateway = typer.Typer(no_args_is_help=True, help=__doc__)
token = typer.Typer(no_args_is_help=True, help="Tokens: one per commune, stored hashed.")
gateway.add_typer(token, name="token")


@gateway.command("serve")
def serve_command(data_dir: DataDir = None) -> None:
    """Serve POST /v1/events (OpenAPI at /docs) on the settings' host and port."""
    serve(settings_for(data_dir))


@token.command("issue")
def issue(
    commune: Annotated[str, typer.Argument(help="the commune's 5-digit code")],
    code: Annotated[
        list[str] | None,
        typer.Option("--code", help="another code it may publish for (e.g. a pre-2025 code)"),
    ] = None,
    data_dir: DataDir = None,
) -> None:
    """Issue a token for a commune; it is shown once and stored only as a hash."""
    try:
        secret = issue_token(settings_for(data_dir), commune, code or [])
    except ValueError as error:
        raise fail(str(error)) from None
    console.print(f"token for commune {commune} (shown once, keep it safe):")
    typer.echo(secret)


@token.command("revoke")
def revoke(commune: str, data_dir: DataDir = None) -> None:
    """Revoke every token of a commune; the running gateway refuses them at once."""
    count = revoke_token(settings_for(data_dir), commune)
    if count == 0:
        raise fail(f"commune {commune} has no token")
    console.print(f"revoked {count} token(s) of commune {commune}")


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
    table = Table("commune", "codes", "issued at", box=box.SIMPLE_HEAD)
    for grant in grants:
        table.add_row(grant.commune, ", ".join(grant.codes), grant.issued_at.isoformat())
    console.print(table)
