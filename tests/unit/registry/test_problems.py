"""One table maps every error class to its HTTP status, walking the MRO."""

import re
from pathlib import Path

import pytest

import did_vault.errors as vault_errors
from did_vault import (
    CredentialExpiredError,
    DIDNotFoundError,
    DidVaultError,
    ForbiddenHostError,
    InvalidDIDError,
    UnsupportedDIDMethodError,
)
from registry.errors import ChallengeReplayedError, DatabaseNotMigratedError
from registry.problems import STATUS_BY_ERROR, problem_responses, status_for

PROBLEMS_MD = Path(__file__).resolve().parents[3] / "specs" / "problems.md"


def _documented_http() -> dict[str, str]:
    text = PROBLEMS_MD.read_text(encoding="utf-8").split("\n## did_vault\n", 1)[1]
    section = text.split("\n## ", 1)[0]
    rows = {}
    for line in section.splitlines():
        match = re.match(r"^\| `([a-z0-9.\-]+)` \| `\w+` \| ([0-9—]+) \|", line)
        if match:
            rows[match.group(1)] = match.group(2)
    return rows


def _vault_classes() -> list[type[DidVaultError]]:
    return [
        cls
        for cls in vars(vault_errors).values()
        if isinstance(cls, type)
        and issubclass(cls, DidVaultError)
        and cls.__module__ == vault_errors.__name__
    ]


@pytest.mark.parametrize("cls", _vault_classes(), ids=lambda cls: cls.__name__)
def test_did_vault_status_matches_problems_md(cls):
    documented = _documented_http()[cls.code]
    if documented == "—":
        assert status_for(cls) == 500  # never sent over HTTP on purpose
    else:
        assert status_for(cls) == int(documented)


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (InvalidDIDError, 400),
        (UnsupportedDIDMethodError, 422),
        (CredentialExpiredError, 422),
        (ForbiddenHostError, 502),
        (DIDNotFoundError, 404),
        (ChallengeReplayedError, 401),
        (DatabaseNotMigratedError, 503),
    ],
)
def test_status_walks_to_nearest_ancestor(error, status):
    assert status_for(error) == status
    assert status_for(error("x")) == status


def test_unlisted_subclass_inherits_its_parents_status():
    class NewExpiryError(CredentialExpiredError):
        code = "credential.new-expiry"

    assert NewExpiryError not in STATUS_BY_ERROR
    assert status_for(NewExpiryError) == 422


def test_problem_responses_group_codes_by_status():
    responses = problem_responses(ChallengeReplayedError, InvalidDIDError)
    assert sorted(responses) == [400, 401, 500]
    assert "`did.invalid`" in responses[400]["description"]
    assert "`request.invalid`" in responses[400]["description"]
    assert "application/problem+json" in responses[401]["content"]
