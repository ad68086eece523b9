"""Every `popreg` help text reads well in an 80-column terminal.

Operators read `--help` in whatever terminal they have, often 80 columns. Help written
across source lines must be reflowed to the terminal, not broken where the source line
ended: a line that stops short although the next word would have fit is such a break.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from itertools import pairwise
from typing import Any

import pytest
import typer.main
from typer.testing import CliRunner

from popreg.cli import app

WIDTH = 80
ANSI = re.compile(r"\x1b\[[0-9;]*m")
BORDER = "│"
CELL = re.compile(r"\S+(?: \S+)*")  # text up to two spaces in a row


def command_paths() -> Iterator[tuple[str, ...]]:
    """Every command and group of the app, as the words that name it."""

    def walk(command: Any, path: tuple[str, ...]) -> Iterator[tuple[str, ...]]:
        yield path
        for name, sub in sorted(getattr(command, "commands", {}).items()):
            yield from walk(sub, (*path, name))

    yield from walk(typer.main.get_command(app), ())


PATHS = list(command_paths())


def rendered_help(path: tuple[str, ...]) -> str:
    result = CliRunner().invoke(app, [*path, "--help"], env={"COLUMNS": str(WIDTH)})
    assert result.exit_code == 0, result.output
    return ANSI.sub("", result.output)


def needless_breaks(text: str) -> list[str]:
    """Lines followed by a continuation whose first word would have fit on them.

    A continuation starts in the column where the line's last cell starts (cells are
    set apart by two spaces or more), so a new row of a panel, a new paragraph or
    typer's own `[default: …]` lines are not continuations."""
    found = []
    lines = text.splitlines()
    for line, following in pairwise(lines):
        boxed = line.startswith(BORDER) and following.startswith(BORDER)
        if not boxed and (line.startswith(BORDER) or following.startswith(BORDER)):
            continue
        body, next_body = (line[1:-1], following[1:-1]) if boxed else (line, following)
        words = next_body.split()
        cells = list(CELL.finditer(body))
        if not words or not cells or words[0].startswith("["):
            continue
        if len(next_body) - len(next_body.lstrip()) != cells[-1].start():
            continue
        room = len(body) - 1 - cells[-1].end()  # a column of padding at the right edge
        if len(words[0]) + 1 <= room:
            found.append(f"{line.rstrip()}\n{following.rstrip()}")
    return found


@pytest.mark.parametrize("path", PATHS, ids=lambda p: " ".join(p) or "popreg")
def test_help_fits_80_columns_without_needless_breaks(path: tuple[str, ...]) -> None:
    text = rendered_help(path)
    too_long = [line for line in text.splitlines() if len(line) > WIDTH]
    assert not too_long, "\n".join(too_long)
    breaks = needless_breaks(text)
    assert not breaks, "lines broken where the next word fits:\n" + "\n\n".join(breaks)


def test_every_command_is_covered() -> None:
    """The walk finds the commands (a typer upgrade that hid them would pass vacuously)."""
    assert {("worker",), ("up",), ("gateway", "token", "issue"), ("audit", "verify")} <= set(PATHS)


def panel_row(text: str) -> str:
    return BORDER + text.ljust(WIDTH - 2) + BORDER


def test_the_check_finds_a_break_where_the_next_word_fits() -> None:
    short = panel_row(" up   Start the embedded parts, wait until each is")
    broken = panel_row("      healthy, then start the processors")
    assert needless_breaks(f"{short}\n{broken}")
    full = panel_row(" up   Start the embedded parts, wait until each is healthy, then start the")
    wrapped = panel_row("      processors")
    assert not needless_breaks(f"{full}\n{wrapped}")
    new_row = panel_row(" down Stop what up started")
    assert not needless_breaks(f"{short}\n{new_row}")


def test_the_installed_command_wraps_at_80_columns() -> None:
    """The same through a real process, as an operator's terminal runs it."""
    env = {**os.environ, "COLUMNS": str(WIDTH)}
    for words in (["--help"], ["worker", "--help"]):
        result = subprocess.run(
            [sys.executable, "-m", "popreg", *words],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
        text = ANSI.sub("", result.stdout)
        assert "worker" in text
        assert all(len(line) <= WIDTH for line in text.splitlines()), text
        assert not needless_breaks(text), text


def test_no_help_cites_a_file_the_repository_lacks() -> None:
    assert "DESIGN.md" not in "\n".join(rendered_help(path) for path in PATHS)
