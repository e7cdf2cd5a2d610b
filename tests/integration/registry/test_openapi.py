"""``specs/openapi.json`` is generated from the app and documents every error."""

import json
from pathlib import Path

import pytest

from registry.openapi import openapi_document, render

SPEC = Path(__file__).resolve().parents[3] / "specs" / "openapi.json"
OPERATIONS = [
    (path, method, operation)
    for path, item in openapi_document()["paths"].items()
    for method, operation in item.items()
]


def test_committed_openapi_matches_the_app():
    assert SPEC.read_text(encoding="utf-8") == render(), (
        "specs/openapi.json is stale: run `make openapi`"
    )


@pytest.mark.parametrize(
    ("path", "method", "operation"),
    OPERATIONS,
    ids=[f"{method.upper()} {path}" for path, method, _ in OPERATIONS],
)
def test_every_operation_documents_its_problems(path, method, operation):
    errors = {
        status: response
        for status, response in operation["responses"].items()
        if int(status) >= 400
    }
    assert "500" in errors
    assert "422" not in errors or "HTTPValidationError" not in json.dumps(errors)
    for response in errors.values():
        assert "application/problem+json" in response["content"]
        assert response["description"].startswith("Problem: ")
    if "requestBody" in operation:
        assert {"400", "413"} <= set(errors)


@pytest.mark.parametrize(
    ("path", "method", "operation"),
    OPERATIONS,
    ids=[f"{method.upper()} {path}" for path, method, _ in OPERATIONS],
)
def test_problems_are_described_under_the_media_type_they_are_sent_as(
    path, method, operation
):
    # Found by the API fuzzer: the ProblemDetails schema sat under
    # application/json, which no error is sent as, and application/problem+json
    # had no schema, so error bodies went unchecked against the document.
    for status, response in operation["responses"].items():
        if int(status) < 400:
            continue
        assert set(response["content"]) == {"application/problem+json"}, status
        assert response["content"]["application/problem+json"]["schema"] == {
            "$ref": "#/components/schemas/ProblemDetails"
        }
