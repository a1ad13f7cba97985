"""Event contracts against their committed snapshots: an incompatible change needs a new major version."""

from __future__ import annotations

import json
import uuid

import pytest
from pydantic import create_model

from shared.events import ALL_EVENTS, Event, UserRegistered, all_topics
from shared.events.catalogue import ASYNCAPI, SCHEMAS, incompatibilities, rendered, schema_of

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("event", ALL_EVENTS, ids=lambda e: e.__name__)
def test_each_contract_stays_compatible_with_its_committed_schema_of_the_same_major(
    event: type[Event],
) -> None:
    path = SCHEMAS / f"{event.topic()}.json"
    assert path.exists(), f"no committed schema for {event.topic()}: run make contracts"
    committed = json.loads(path.read_text())
    problems = incompatibilities(committed, schema_of(event))
    assert not problems, f"{event.__name__} changed incompatibly without a new major version: {problems}"


def test_the_committed_schemas_and_asyncapi_document_are_up_to_date() -> None:
    stale = [p.name for p, content in rendered().items() if not p.exists() or p.read_text() != content]
    assert not stale, f"run make contracts: {stale}"
    assert ASYNCAPI.exists()


def test_removing_retyping_or_requiring_a_field_is_reported_as_incompatible() -> None:
    old = schema_of(UserRegistered)
    removed = {**old, "properties": {k: v for k, v in old["properties"].items() if k != "email"}}
    assert "field 'email' was removed" in incompatibilities(old, removed)
    retyped = json.loads(json.dumps(old))
    retyped["properties"]["email"] = {"type": "integer"}
    assert "field 'email' changed type" in incompatibilities(old, retyped)
    required = json.loads(json.dumps(old))
    required["properties"]["extra"] = {"type": "string"}
    required["required"] = [*old["required"], "extra"]
    assert "field 'extra' became required" in incompatibilities(old, required)
    optional = json.loads(json.dumps(old))
    optional["properties"]["note"] = {"type": "string"}
    assert incompatibilities(old, optional) == []


def test_topics_follow_the_producer_event_major_pattern_and_each_has_a_dead_letter_topic() -> None:
    assert UserRegistered.topic() == "identity.user-registered.v1"
    topics = all_topics()
    assert len(topics) == 2 * len(ALL_EVENTS) == len(set(topics))
    for event in ALL_EVENTS:
        producer, _name, major = event.topic().split(".")
        assert producer == event.producer and major == f"v{event.major}"
        assert event.dlq_topic() in topics


def test_the_envelope_carries_type_version_and_the_key_is_the_aggregate_id() -> None:
    user = uuid.uuid4()
    event = UserRegistered(user_id=user, category="relative", email="r@example.jp", locale="en")
    wire = json.loads(event.model_dump_json())
    assert wire["event_type"] == "UserRegistered"
    assert wire["event_version"] == 1
    assert {"event_id", "occurred_at", "correlation_id", "causation_id"} <= set(wire)
    assert event.key() == str(user)
    assert UserRegistered.model_validate_json(event.model_dump_json()) == event
    child = event.caused()
    assert child["causation_id"] == event.event_id and child["correlation_id"] == event.event_id


def test_a_consumer_ignores_fields_it_does_not_know() -> None:
    newer = create_model("UserRegisteredV1Plus", __base__=UserRegistered, nickname=(str, "x"))
    payload = newer(user_id=uuid.uuid4(), category="relative", email="r@example.jp").model_dump_json()
    assert UserRegistered.model_validate_json(payload).email == "r@example.jp"
