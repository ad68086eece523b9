"""The compose file and the systemd units run `popreg` commands that exist and parse.

No Docker engine or systemd runs them on the development machines, so nothing else
would notice a service whose command the CLI no longer has (it would only exit at
once in production), a required option it lacks, or a `POPREG_*` variable that names
no setting (the settings ignore unknown variables, so a misspelt one is silent).
Commands are parsed as the CLI parses them, without running them.
"""

from __future__ import annotations

import json
import os
import re
import shlex
from collections.abc import Iterator
from pathlib import Path
from typing import Any, get_origin

import pytest
import typer
import typer.main
import yaml
from pydantic import BaseModel

from popreg.cli import app
from schemas.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = ROOT / "infra" / "compose" / "docker-compose.yml"
DOCKERFILE = ROOT / "infra" / "compose" / "Dockerfile"
SYSTEMD = ROOT / "infra" / "systemd"
# The instances each template unit is meant to be started as (`name@instance`).
TEMPLATE_INSTANCES = {"popreg-worker@.service": ["state", "indicators"]}
# Compose interpolation: ${VAR}, ${VAR:-default}, ${VAR:?error}.
INTERPOLATION = re.compile(r"\$\{(\w+)(?::?([-?])([^}]*))?\}")
# Not a setting: where the settings file is.
NOT_SETTINGS = {"POPREG_CONFIG"}


def parse(args: list[str]) -> Any:
    """The command `args` name, parsed and checked (arguments, options, choices, types)
    as `popreg` would before running it; raises typer's usage errors."""
    command: Any = typer.main.get_command(app)
    path = ["popreg"]
    rest = list(args)
    while getattr(command, "commands", None) and rest and rest[0] in command.commands:
        path.append(rest[0])
        command = command.commands[rest.pop(0)]
    if getattr(command, "commands", None):
        if rest:  # the group refuses a word that names none of its commands
            command.resolve_command(command.make_context(" ".join(path), list(rest)), rest)
        raise AssertionError(f"{' '.join(path)} is a group: {args} names no command in it")
    command.make_context(" ".join(path), rest)
    return command


def compose() -> dict[str, Any]:
    found: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())
    return found


def popreg_services(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The services built from the popreg image."""
    image = doc["x-popreg"]["image"]
    return {
        name: service
        for name, service in doc["services"].items()
        if service.get("image") == image
        or str(service.get("build", {}).get("dockerfile", "")).endswith("compose/Dockerfile")
    }


def image_entrypoint() -> list[str]:
    lines = [line for line in DOCKERFILE.read_text().splitlines() if line.startswith("ENTRYPOINT")]
    assert len(lines) == 1, lines
    found: list[str] = json.loads(lines[0].removeprefix("ENTRYPOINT"))
    return found


def interpolated(value: str) -> str:
    """A compose value with its variables as compose would fill them: the default where
    one is given, a placeholder for a required or plain one."""
    return INTERPOLATION.sub(lambda m: m[3] if m[2] == "-" else f"x{m[1].lower()}", value)


def names_a_setting(variable: str) -> bool:
    """Whether POPREG_A__B names the field a.b of the settings (nesting with `__`; the
    last part may be a key of a dict field)."""
    parts = variable.removeprefix("POPREG_").lower().split("__")
    model: type[BaseModel] = Settings
    for depth, part in enumerate(parts):
        field = model.model_fields.get(part)
        if field is None:
            return False
        if depth == len(parts) - 1:
            return True
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            model = annotation
        else:
            return get_origin(annotation) is dict and depth == len(parts) - 2
    return False


def exec_starts() -> Iterator[tuple[str, list[str]]]:
    """Each unit's ExecStart as argv, a template's once per instance it is meant for."""
    for unit in sorted(SYSTEMD.glob("*.service")):
        instances = [""]
        if "@." in unit.name:
            assert unit.name in TEMPLATE_INSTANCES, f"{unit.name}: say which instances it is for"
            instances = TEMPLATE_INSTANCES[unit.name]
        for line in unit.read_text().splitlines():
            if line.startswith("ExecStart="):
                command = line.removeprefix("ExecStart=").lstrip("-@+!:")
                for instance in instances:
                    yield (
                        f"{unit.name} {instance}".strip(),
                        shlex.split(command.replace("%i", instance)),
                    )


def unit_environment(unit: Path) -> dict[str, str]:
    found: dict[str, str] = {}
    for line in unit.read_text().splitlines():
        if line.startswith("Environment="):
            for assignment in shlex.split(line.removeprefix("Environment=")):
                name, _, value = assignment.partition("=")
                found[name] = value
    return found


def test_the_popreg_services_are_found() -> None:
    assert {"popreg-init", "projector", "indicators"} <= set(popreg_services(compose()))


def test_the_image_runs_popreg_with_the_command_as_its_arguments() -> None:
    assert image_entrypoint() == ["popreg"]
    for name, service in popreg_services(compose()).items():
        assert "entrypoint" not in service, f"{name} replaces the image's entrypoint"


@pytest.mark.parametrize("name", sorted(popreg_services(compose())))
def test_each_popreg_service_command_exists_and_parses(name: str) -> None:
    command = compose()["services"][name]["command"]
    assert isinstance(command, list), f"{name}: give the command as a list, as exec runs it"
    found = parse([str(word) for word in command])
    assert not found.hidden, f"{name} runs {command}, which `popreg --help` does not show"


def test_the_processors_are_the_worker_command() -> None:
    services = compose()["services"]
    assert services["projector"]["command"] == ["worker", "state"]
    assert services["indicators"]["command"] == ["worker", "indicators"]
    # The init container's `up` must not start workers of its own: they would end with it.
    assert "--no-processors" in services["popreg-init"]["command"]


def test_every_popreg_variable_of_compose_names_a_setting() -> None:
    doc = compose()
    for name, service in popreg_services(doc).items():
        unknown = [
            variable
            for variable in service.get("environment", {})
            if variable.startswith("POPREG_")
            and variable not in NOT_SETTINGS
            and not names_a_setting(variable)
        ]
        assert not unknown, f"{name}: no setting is named by {unknown}"


def test_the_compose_settings_load_and_point_at_the_compose_servers(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """What a popreg container reads: every server is one of the compose services, so
    `popreg up` starts none of its own, and the workers read only the environment."""
    service = compose()["services"]["projector"]
    for variable in [v for v in os.environ if v.startswith("POPREG_")]:
        monkeypatch.delenv(variable)
    for variable, value in service["environment"].items():
        monkeypatch.setenv(variable, interpolated(str(value)))
    monkeypatch.chdir(tmp_path)  # no popreg.toml here
    settings = Settings()
    assert settings.bootstrap_servers == "kafka-1:9092,kafka-2:9092,kafka-3:9092"
    assert settings.kafka.sasl_username == "popreg"
    assert settings.kafka.security_protocol == "SASL_PLAINTEXT"
    assert not (settings.embedded_broker or settings.embedded_postgres)
    assert not settings.embedded_clickhouse
    assert settings.schema_registry_url == "http://schema-registry:8081"
    assert (settings.partitions, settings.topics.replication_factor) == (12, 3)
    assert settings.data_dir == Path("/var/lib/popreg")


@pytest.mark.parametrize("unit_argv", list(exec_starts()), ids=lambda u: u[0])
def test_each_systemd_exec_start_is_a_popreg_command_that_parses(
    unit_argv: tuple[str, list[str]],
) -> None:
    unit, argv = unit_argv
    assert Path(argv[0]).name == "popreg", f"{unit} runs {argv[0]}, not popreg"
    found = parse(argv[1:])
    assert not found.hidden, f"{unit} runs {argv}, which `popreg --help` does not show"


def test_the_systemd_units_set_only_settings_that_exist() -> None:
    for unit in sorted(SYSTEMD.glob("*.service")):
        unknown = [
            variable
            for variable in unit_environment(unit)
            if variable.startswith("POPREG_") and not names_a_setting(variable)
        ]
        assert not unknown, f"{unit.name}: no setting is named by {unknown}"


def test_the_worker_units_cover_every_processor() -> None:
    from popreg.commands.worker import Processor

    assert sorted(TEMPLATE_INSTANCES["popreg-worker@.service"]) == sorted(Processor)


def test_the_check_refuses_what_the_cli_would() -> None:
    """The parse is a real one: these fail as `popreg` fails on them."""
    for args in (
        ["worker"],  # no processor
        ["worker", "projector"],  # not a processor
        ["worker", "state", "--no-such-option"],
        ["no-such-command"],
        ["checkpoint", "--keep", "0"],  # below its minimum
    ):
        with pytest.raises(typer.TyperException):
            parse(args)
    with pytest.raises(AssertionError):
        parse(["gateway"])  # a group, not a command
    assert names_a_setting("POPREG_KAFKA__SASL_PASSWORD")
    assert names_a_setting("POPREG_PROCESSORS__NICE__STATE")
    assert not names_a_setting("POPREG_KAFKA__SASL_PASWORD")
    assert not names_a_setting("POPREG_POSTGRES_URL")
