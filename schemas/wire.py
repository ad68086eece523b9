"""The wire format a process writes, and decoding whichever one a message is in.

Single-object encoding needs nothing but `schemas.codec`; Confluent framing needs a
Schema Registry, through confluent-kafka's client, loaded only when one is configured.
"""

from __future__ import annotations

import json
import struct
from typing import Any

from schemas.codec import (
    DecodeError,
    WriterSchema,
    decode_body,
    decode_single_object,
    encode_single_object,
    framing_of,
    load_current,
    record_of,
    writer_of,
)
from schemas.models import Event


class Codec:
    """Encodes in the configured wire format and decodes both."""

    def __init__(self, registry_url: str | None = None) -> None:
        self._registry: Any = None
        self._serializers: dict[str, Any] = {}
        self._by_id: dict[int, WriterSchema] = {}
        if registry_url:
            from confluent_kafka.schema_registry import SchemaRegistryClient

            self._registry = SchemaRegistryClient.new_client({"url": registry_url})

    @property
    def framing(self) -> str:
        return "single-object" if self._registry is None else "confluent"

    def encode(self, event: Event, topic: str) -> bytes:
        if self._registry is None:
            return encode_single_object(event)
        from confluent_kafka.serialization import MessageField, SerializationContext

        context = SerializationContext(topic, MessageField.VALUE)
        data: bytes = self._serializer(event.type)(record_of(event), context)
        return data

    def decode(self, data: bytes | None) -> Event:
        if framing_of(data) == "single-object":
            assert data is not None
            return decode_single_object(data)
        assert data is not None
        (schema_id,) = struct.unpack_from(">I", data, 1)
        return decode_body(data[5:], self._writer_by_id(schema_id))

    def _serializer(self, name: str) -> Any:
        if name not in self._serializers:
            from confluent_kafka.schema_registry import topic_record_subject_name_strategy
            from confluent_kafka.schema_registry.avro import AvroSerializer

            self._serializers[name] = AvroSerializer(
                self._registry,
                json.dumps(load_current(name)),
                conf={
                    "subject.name.strategy": topic_record_subject_name_strategy,
                    "auto.register.schemas": True,
                },
            )
        return self._serializers[name]

    def _writer_by_id(self, schema_id: int) -> WriterSchema:
        if schema_id not in self._by_id:
            if self._registry is None:
                raise DecodeError(
                    "no_registry",
                    f"Confluent-framed message (schema id {schema_id}) but no Schema Registry"
                    " is configured: set POPREG_SCHEMA_REGISTRY_URL",
                )
            try:
                schema = self._registry.get_schema(schema_id)
            except Exception as error:  # the registry client raises several kinds
                raise DecodeError("unknown_schema", f"schema id {schema_id}: {error}") from None
            self._by_id[schema_id] = writer_of(json.loads(schema.schema_str))
        return self._by_id[schema_id]
