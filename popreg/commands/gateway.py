"""`popreg gateway`: run the HTTP ingest gateway, manage the communes' tokens and the
collaborators' accounts."""

from __future__ import annotations

import io
import json
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated

import segno
import typer
from clickhouse_connect.driver.exceptions import ClickHouseError
from rich import box
from rich.table import Table

from infra.roster import sync_roster
from popreg.output import DataDir, console, fail, settings_for
from producers.gateway import (
    issue_province_token,
    issue_token,
    list_tokens,
    revoke_token,
    serve,
)
from producers.gateway.collaborators import (
    Collaborator,
    NotACollaborator,
    add_collaborator,
    list_collaborators,
    revoke_collaborator,
)
from schemas.settings import Settings

gateway = typer.Typer(
    no_args_is_help=True,
    help="Run the HTTP ingest gateway; manage the communes' tokens and the collaborators.",
)
token = typer.Typer(no_args_is_help=True, help="Tokens: one per commune, stored hashed.")
gateway.add_typer(token, name="token")
collaborator = typer.Typer(
    no_args_is_help=True,
    help="Collaborators' accounts: one per person, under a commune, activated on the phone"
    " with a one-time code.",
)
gateway.add_typer(collaborator, name="collaborator")


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


def app_url(settings: Settings) -> str:
    """The collaborators' app on this gateway, as `popreg gateway serve` serves it."""
    return f"http://{settings.gateway.host}:{settings.gateway.port}/app/"


@collaborator.command("add")
def collaborator_add(
    commune: Annotated[
        str, typer.Option("--commune", help="the commune's 5-digit code, as in force today")
    ],
    name: Annotated[
        str, typer.Option("--name", help="the collaborator's name, shown on their phone")
    ],
    valid_hours: Annotated[
        float, typer.Option("--valid-hours", min=0.01, help="how long the activation code works")
    ] = 24.0,
    qr_png: Annotated[
        Path | None,
        typer.Option("--qr-png", help="also write the activation QR code as a PNG image"),
    ] = None,
    url: Annotated[
        str | None,
        typer.Option(
            "--app-url",
            help="the app's address as phones reach it (behind a TLS proxy); default the"
            " gateway's own",
        ),
    ] = None,
    data_dir: DataDir = None,
) -> None:
    """Enrol a collaborator: prints their id and a one-time activation code (shown once)
    with a QR code of the app's address that carries it."""
    settings = settings_for(data_dir)
    try:
        added, code = add_collaborator(
            settings, commune, name, valid_for=timedelta(hours=valid_hours)
        )
    except ValueError as error:
        raise fail(str(error)) from None
    link = f"{url or app_url(settings)}#activate={code}"
    qr = segno.make(link, error="m")
    console.print(f"collaborator [bold]{added.id}[/bold] (commune {added.commune})")
    console.print("activation code (shown once, works once):")
    typer.echo(code)
    console.print(f"valid until {added.code_expires_at.isoformat(timespec='seconds')}")
    console.print(f"app: {link}")
    terminal = io.StringIO()
    qr.terminal(out=terminal, compact=True)
    typer.echo(terminal.getvalue(), nl=False)
    if qr_png is not None:
        qr.save(str(qr_png), scale=8)
        qr_png.chmod(0o600)  # it carries the code
        console.print(f"QR code written to {qr_png}")
    _roster_to_figures(settings)


@collaborator.command("list")
def collaborator_list(
    commune: Annotated[
        str | None, typer.Option("--commune", help="only this commune's collaborators")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="machine-readable output")] = False,
    data_dir: DataDir = None,
) -> None:
    """Every collaborator enrolled, revoked ones too, with the active and revoked counts."""
    found = [c for c in list_collaborators(settings_for(data_dir)) if commune in (None, c.commune)]
    counts = Counter("active" if c.active else "revoked" for c in found)
    if as_json:
        rows = [c.model_dump(mode="json", exclude={"code_sha256", "token_sha256"}) for c in found]
        typer.echo(
            json.dumps(
                {"active": counts["active"], "revoked": counts["revoked"], "collaborators": rows},
                indent=2,
                ensure_ascii=False,
            )
        )
        return
    table = Table("id", "name", "enrolled", "activated", "revoked", box=box.SIMPLE_HEAD)
    for c in found:
        table.add_row(c.id, c.name, _when(c.enrolled_at), _activation(c), _when(c.revoked_at))
    console.print(table)
    console.print(f"{counts['active']} active, {counts['revoked']} revoked")


@collaborator.command("revoke")
def collaborator_revoke(
    collaborator_id: Annotated[str, typer.Argument(help="e.g. ctv-32014-0001")],
    data_dir: DataDir = None,
) -> None:
    """Revoke a collaborator: the running gateway refuses their token from the next
    request (401, reason "revoked"); they stay listed, with the time."""
    settings = settings_for(data_dir)
    try:
        revoked = revoke_collaborator(settings, collaborator_id)
    except NotACollaborator:
        raise fail(f"no collaborator has the id {collaborator_id!r}") from None
    console.print(f"revoked {revoked.id} at {_when(revoked.revoked_at)}")
    _roster_to_figures(settings)


def _roster_to_figures(settings: Settings) -> None:
    """The collaborator figures follow the roster: ClickHouse gets it now if it is up,
    else at the next `popreg up`."""
    try:
        sync_roster(settings)
    except (ClickHouseError, OSError) as error:
        console.print(
            f"[yellow]the collaborator figures take this at the next `popreg up`[/yellow]"
            f" (ClickHouse: {type(error).__name__})"
        )


def _when(moment: datetime | None) -> str:
    return moment.isoformat(timespec="seconds") if moment is not None else ""


def _activation(c: Collaborator) -> str:
    if c.activated_at is not None:
        return _when(c.activated_at)
    return "code expired" if c.code_expired else "code pending"
