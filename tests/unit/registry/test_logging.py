"""JSON log lines with the request id."""

import json
import logging

from registry.logging import (
    JSONFormatter,
    request_id_from,
    reset_request_id,
    set_request_id,
)


def _record(message="hello", **extra):
    record = logging.LogRecord(
        "registry.test", logging.INFO, __file__, 1, message, (), None
    )
    for key, value in extra.items():
        setattr(record, key, value)
    return record


def test_line_is_json_with_request_id_and_fields():
    token = set_request_id("req-12345678")
    try:
        line = json.loads(JSONFormatter().format(_record(fields={"status": 201})))
    finally:
        reset_request_id(token)
    assert line["message"] == "hello"
    assert line["request_id"] == "req-12345678"
    assert line["status"] == 201
    assert line["level"] == "INFO"


def test_fields_cannot_overwrite_core_members():
    line = json.loads(JSONFormatter().format(_record(fields={"message": "forged"})))
    assert line["message"] == "hello"


def test_request_id_is_kept_only_when_well_formed():
    assert request_id_from("abcdefgh-1234") == "abcdefgh-1234"
    assert request_id_from("short") != "short"
    assert request_id_from("has space 123") != "has space 123"
    assert len(request_id_from(None)) == 32
