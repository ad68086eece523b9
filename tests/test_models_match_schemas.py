"""The pydantic models and the Avro schemas describe the same records, field by field."""

from __future__ import annotations

import types
import typing
from datetime import date, datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

import pytest
from fastavro.schema import load_schema
from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from schemas import models
from schemas.codec import AVRO_DIR, NAMESPACE
from schemas.models import EVENT_MODELS

PRIMITIVES: dict[str, type] = {"string": str, "int": int, "long": int, "boolean": bool}
LOGICAL: dict[str, type] = {"uuid": UUID, "date": date, "timestamp-millis": datetime}


def strip(annotation: Any) -> Any:
    """The annotation without Annotated[...] constraints, at every level."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return strip(typing.get_args(annotation)[0])
    if origin in (list, dict):
        return origin[tuple(strip(a) for a in typing.get_args(annotation))]
    if origin in (typing.Union, types.UnionType):
        args = [strip(a) for a in typing.get_args(annotation)]
        return typing.Union[tuple(args)]  # noqa: UP007
    return annotation


def short(name: str) -> str:
    return name.rsplit(".", 1)[-1]


def check_type(avro: Any, annotation: Any, where: str, named: dict[str, Any]) -> None:
    if isinstance(avro, str) and avro in PRIMITIVES:
        assert annotation is PRIMITIVES[avro], where
    elif isinstance(avro, str):
        check_named(named[avro], annotation, where, named)
    elif isinstance(avro, list):
        assert avro[0] == "null" and len(avro) == 2, f"{where}: only [null, T] unions"
        args = typing.get_args(annotation)
        assert type(None) in args and len(args) == 2, f"{where}: model must be Optional"
        (inner,) = [a for a in args if a is not type(None)]
        check_type(avro[1], inner, where, named)
    elif avro.get("logicalType") in LOGICAL:
        expected = LOGICAL[avro["logicalType"]]
        assert isinstance(annotation, type) and issubclass(annotation, expected), where
    elif avro["type"] == "array":
        assert typing.get_origin(annotation) is list, where
        check_type(avro["items"], typing.get_args(annotation)[0], f"{where}[]", named)
    elif avro["type"] == "map":
        assert typing.get_origin(annotation) is dict, where
        key, value = typing.get_args(annotation)
        assert key is str, where
        check_type(avro["values"], value, f"{where}{{}}", named)
    else:
        check_named(avro, annotation, where, named)


def check_named(avro: dict[str, Any], annotation: Any, where: str, named: dict[str, Any]) -> None:
    named[f"{NAMESPACE}.{avro['name']}"] = avro
    assert isinstance(annotation, type) and annotation.__name__ == short(avro["name"]), where
    if avro["type"] == "enum":
        assert issubclass(annotation, StrEnum), where
        assert [m.value for m in annotation] == avro["symbols"], f"{where}: enum symbols"
    else:
        check_record(avro, annotation, named)


def check_record(avro: dict[str, Any], model: type[BaseModel], named: dict[str, Any]) -> None:
    fields = dict(model.model_fields)
    if "type" in fields:  # the JSON tag of an event: the record's name, not an Avro field
        assert fields.pop("type").default == short(avro["name"])
    assert list(fields) == [f["name"] for f in avro["fields"]], f"{model.__name__}: field order"
    for spec in avro["fields"]:
        info = fields[spec["name"]]
        where = f"{model.__name__}.{spec['name']}"
        check_type(spec["type"], strip(info.annotation), where, named)
        if "default" in spec:
            default = info.get_default(call_default_factory=True)
            assert default == spec["default"], f"{where}: default"
        else:
            assert info.default is PydanticUndefined and info.default_factory is None, (
                f"{where}: required in Avro, so required in the model"
            )


@pytest.mark.parametrize("name", sorted(EVENT_MODELS))
def test_event_model_matches_schema(name: str) -> None:
    schema = load_schema(str(AVRO_DIR / f"{NAMESPACE}.{name}.avsc"), _write_hint=False)
    check_record(schema, EVENT_MODELS[name], {})


def test_every_record_and_enum_has_a_model() -> None:
    for path in AVRO_DIR.glob("*.avsc"):
        name = path.name.removeprefix(f"{NAMESPACE}.").removesuffix(".avsc")
        assert isinstance(getattr(models, name, None), type), f"no model for {name}"


def test_a_drifted_model_is_caught() -> None:
    """The checker itself fails on a mismatch (renamed field, wrong type, lost default)."""
    schema = load_schema(str(AVRO_DIR / f"{NAMESPACE}.DeathRegistered.avsc"), _write_hint=False)
    for field, change in (("age_at_death", {"name": "age"}), ("place", {"type": "string"})):
        drifted = {
            **schema,
            "fields": [{**f, **change} if f["name"] == field else f for f in schema["fields"]],
        }
        with pytest.raises(AssertionError):
            check_record(drifted, models.DeathRegistered, {})
