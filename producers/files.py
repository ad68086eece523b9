"""Commune exports (JSON Lines or CSV) read as numbered rows, checked before anything is sent.

JSON Lines: one event per line in the JSON shape of `schemas.validation.parse_event`
(what `popreg synth` writes). CSV: a header of dotted field paths (`type`,
`envelope.event_id`, `child.full_name`, ...); an empty cell is an absent value; a
list or map cell holds JSON (`["P1","P2"]`), or for a list of ids, ids separated by
`;`.

Checking is a pass of its own that keeps only a fingerprint per event id, so a file
of millions of events is checked in flat memory; publishing re-reads the file.
"""

from __future__ import annotations

import csv
import hashlib
import json
import typing
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from schemas.models import EVENT_MODELS, Context, Event
from schemas.validation import InvalidEvent, Problem, parse_event


@dataclass(frozen=True)
class Row:
    line: int  # 1-based line where the row starts in the file
    data: dict[str, Any] | None  # None when the row itself could not be read
    problem: Problem | None = None
    raw: dict[str, Any] | str | None = None  # the row as read, for the rejects file


@dataclass(frozen=True)
class BadRow:
    line: int
    problems: list[Problem]
    raw: dict[str, Any] | str | None


@dataclass
class Check:
    """The outcome of checking a whole file."""

    rows: int = 0
    valid: int = 0
    repeated: int = 0  # rows repeating an earlier row's event exactly: sent once
    bad: list[BadRow] = field(default_factory=list)
    types: Counter[str] = field(default_factory=Counter)
    repeated_lines: set[int] = field(default_factory=set)

    @property
    def bad_lines(self) -> set[int]:
        return {row.line for row in self.bad}

    def reasons(self) -> Counter[str]:
        return Counter(p.rule for row in self.bad for p in row.problems)


def file_format(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".ndjson", ".json"):
        return "jsonl"
    if suffix in (".csv", ".tsv"):
        return "csv"
    raise ValueError(f"{path.name}: unknown format; use .jsonl (JSON Lines) or .csv")


def read_rows(path: Path) -> Iterator[Row]:
    return _jsonl_rows(path) if file_format(path) == "jsonl" else _csv_rows(path)


def _jsonl_rows(path: Path) -> Iterator[Row]:
    with path.open(encoding="utf-8-sig") as handle:
        for number, text in enumerate(handle, start=1):
            if not text.strip():
                continue
            try:
                data = json.loads(text)
            except ValueError as error:
                yield Row(number, None, Problem("", "invalid_json", str(error)), text.rstrip("\n"))
                continue
            if not isinstance(data, dict):
                problem = Problem("", "not_an_object", "each line must be one JSON object")
                yield Row(number, None, problem, text.rstrip("\n"))
                continue
            yield Row(number, data, raw=data)


def _csv_rows(path: Path) -> Iterator[Row]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        dialect = "excel-tab" if path.suffix.lower() == ".tsv" else "excel"
        reader = csv.DictReader(handle, dialect=dialect)
        start = 2  # line 1 is the header
        for cells in reader:
            line, start = start, reader.line_num + 1
            if None in cells:
                problem = Problem("", "extra_cells", "the row has more cells than the header")
                yield Row(line, None, problem, cells)
                continue
            try:
                yield Row(line, nest(cells), raw=cells)
            except ValueError as error:
                yield Row(line, None, Problem("", "invalid_cell", str(error)), cells)


def nest(cells: dict[str, str]) -> dict[str, Any]:
    """A flat CSV row with dotted column names as the nested JSON shape."""
    model = EVENT_MODELS.get(cells.get("type", ""))
    data: dict[str, Any] = {}
    for column, text in cells.items():
        if text is None or text.strip() == "":
            continue
        *parents, name = column.strip().split(".")
        target = data
        for parent in parents:
            target = target.setdefault(parent, {})
        target[name] = _cell(model, parents, name, text.strip())
    return data


def _cell(model: type[Event] | None, parents: list[str], name: str, text: str) -> Any:
    if parents or model is None or name not in model.model_fields:
        return text
    origin = typing.get_origin(model.model_fields[name].annotation)
    if origin not in (list, dict):
        return text
    if text.startswith(("[", "{")):
        try:
            return json.loads(text)
        except ValueError as error:
            raise ValueError(f"{name}: not valid JSON ({error})") from None
    if origin is list:
        return [item.strip() for item in text.split(";") if item.strip()]
    raise ValueError(f"{name}: expected a JSON object")


def fingerprint(data: dict[str, Any]) -> bytes:
    return hashlib.blake2b(json.dumps(data, sort_keys=True).encode(), digest_size=8).digest()


def check_file(
    path: Path, context: Context, on_row: typing.Callable[[int], None] | None = None
) -> Check:
    """Validate every row; find repeated event ids (same content: once; else a conflict)."""
    check = Check()
    seen: dict[str, tuple[bytes, int]] = {}
    for row in read_rows(path):
        check.rows += 1
        if on_row is not None:
            on_row(check.rows)
        if row.data is None:
            assert row.problem is not None
            check.bad.append(BadRow(row.line, [row.problem], row.raw))
            continue
        try:
            event = parse_event(row.data, context)
        except InvalidEvent as invalid:
            check.bad.append(BadRow(row.line, invalid.problems, row.raw))
            continue
        event_id = str(event.envelope.event_id)
        digest = fingerprint(event.model_dump(mode="json"))
        if event_id in seen:
            first_digest, first_line = seen[event_id]
            if first_digest != digest:
                message = f"line {first_line} has this event_id with other content"
                problem = Problem("envelope.event_id", "event_id_conflict", message)
                check.bad.append(BadRow(row.line, [problem], row.raw))
            else:
                check.repeated += 1
                check.repeated_lines.add(row.line)
            continue
        seen[event_id] = (digest, row.line)
        check.valid += 1
        check.types[event.type] += 1
    return check


def events_to_send(path: Path, check: Check, context: Context) -> Iterator[Event]:
    """The checked file's valid rows as events, each event once, in file order."""
    skip = check.bad_lines | check.repeated_lines
    for row in read_rows(path):
        if row.line not in skip and row.data is not None:
            yield parse_event(row.data, context)


def write_rejects(path: Path, source: Path, bad: list[BadRow]) -> None:
    """The rejected rows with their reasons, in the input's own format so they can be fixed."""
    reasons = [("; ".join(str(p) for p in row.problems)) for row in bad]
    if file_format(source) == "jsonl":
        with path.open("w", encoding="utf-8") as out:
            for row, reason in zip(bad, reasons, strict=True):
                record = {"line": row.line, "reasons": reason, "row": row.raw}
                out.write(json.dumps(record, ensure_ascii=False) + "\n")
        return
    columns: list[str] = ["line", "reasons"]
    for row in bad:
        if isinstance(row.raw, dict):
            columns += [c for c in row.raw if c is not None and c not in columns]
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.DictWriter(out, columns, extrasaction="ignore")
        writer.writeheader()
        for row, reason in zip(bad, reasons, strict=True):
            cells = row.raw if isinstance(row.raw, dict) else {}
            writer.writerow({**cells, "line": row.line, "reasons": reason})
