"""Status list vectors: W3C Bitstring Status List 1.0 and the IETF Token Status List.

W3C: the spec's example list credential and the W3C test suite's fixtures (bit order:
entry 0 at the most significant bit). IETF: the draft's §4.1 examples and its appendix
test vectors for 1, 2, 4 and 8 bits (bit order: entry 0 at the least significant bits),
and its Status List Token example.
"""

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from did_vault.credentials.status import (
    MIN_LIST_ENTRIES,
    BitstringStatusList,
    BitstringStatusListEntry,
    StatusListChecker,
)
from did_vault.credentials.token_status import (
    TokenStatusList,
    parse_status_claim,
    split_status_list_token,
)
from did_vault.errors import DidVaultError, StatusListInvalidError

pytestmark = pytest.mark.conformance

VECTORS = Path(__file__).parent / "vectors"
W3C: dict[str, Any] = json.loads(
    (VECTORS / "bitstring-status-list" / "bitstring-status-list.json").read_text(
        "utf-8"
    )
)
IETF: dict[str, Any] = json.loads(
    (VECTORS / "token-status-list" / "token-status-list.json").read_text("utf-8")
)
NOW = datetime(2026, 11, 23, 12, 0, 0, tzinfo=UTC)


# --- W3C ----------------------------------------------------------------------------


def test_spec_example_encoded_list_decodes_to_the_default_size() -> None:
    subject = W3C["spec_example"]["credential"]["credentialSubject"]
    status_list = BitstringStatusList.decode(subject["encodedList"])
    assert len(status_list) == W3C["spec_example"]["entries"] == MIN_LIST_ENTRIES


@pytest.mark.parametrize(
    "entry", W3C["spec_example_entries"], ids=lambda e: e["statusPurpose"]
)
def test_spec_example_entries_parse(entry: dict[str, Any]) -> None:
    parsed = BitstringStatusListEntry.from_mapping(entry)
    assert parsed.index == int(entry["statusListIndex"])
    assert parsed.to_dict() == entry


class _ServedFetcher:
    def __init__(self, documents: Mapping[str, Mapping[str, Any]]) -> None:
        self._documents = documents

    def fetch(self, url: str) -> bytes:
        return json.dumps(self._documents[url]).encode()


def _accept_unsigned(credential: Mapping[str, Any], *, now: datetime) -> object:
    return credential


def _with_multibase_prefix(credential: Mapping[str, Any]) -> dict[str, Any]:
    copy: dict[str, Any] = json.loads(json.dumps(credential))
    copy["credentialSubject"]["encodedList"] = (
        "u" + copy["credentialSubject"]["encodedList"]
    )
    return copy


SUITE_CASES = W3C["test_suite"]["cases"]


@pytest.mark.parametrize("case", SUITE_CASES, ids=lambda c: c["name"])
def test_w3c_test_suite_fixture_fails_with_its_code(case: dict[str, Any]) -> None:
    entry = case["credentialStatus"]
    served = W3C["test_suite"]["status_credentials"][case["served"]]
    fetcher = _ServedFetcher(
        {entry["statusListCredential"]: _with_multibase_prefix(served)}
    )
    checker = StatusListChecker(fetcher=fetcher, verify_list=_accept_unsigned)
    with pytest.raises(DidVaultError) as caught:
        checker.check(entry, now=NOW)
    assert caught.value.code == case["expected"]


def test_w3c_test_suite_list_without_multibase_prefix_is_refused() -> None:
    served = W3C["test_suite"]["status_credentials"][
        "fixtures/status-credentials/single-purpose-ok.jsonld"
    ]
    with pytest.raises(StatusListInvalidError) as caught:
        BitstringStatusList.decode(served["credentialSubject"]["encodedList"])
    assert caught.value.context["reason"] == "encoding"


def test_w3c_test_suite_list_sets_index_201_most_significant_bit_first() -> None:
    served = W3C["test_suite"]["status_credentials"][
        "fixtures/status-credentials/single-purpose-ok.jsonld"
    ]
    encoded = "u" + served["credentialSubject"]["encodedList"]
    status_list = BitstringStatusList.decode(encoded)
    assert status_list.get(201) == 1
    assert status_list.get(200) == 0
    assert status_list.get(202) == 0
    # 201 = byte 25, second bit from the left: 0b0100_0000.
    assert status_list.to_bytes()[25] & 0x40


# --- IETF ---------------------------------------------------------------------------


LISTS = IETF["lists"]


@pytest.mark.parametrize("vector", LISTS, ids=lambda v: v["name"])
def test_token_status_list_decodes_to_the_listed_statuses(
    vector: dict[str, Any],
) -> None:
    status_list = TokenStatusList.from_json(
        {"bits": vector["bits"], "lst": vector["lst"]}
    )
    assert len(status_list) >= vector["size"]
    listed = dict(vector["statuses"])
    for index, value in listed.items():
        assert status_list.get(index) == value, index
    # "All values that are not mentioned ... can be assumed to be 0".
    nonzero = sum(1 for value in listed.values() if value)
    assert status_list.count_nonzero() == nonzero
    if "byte_array_hex" in vector:
        assert status_list.to_bytes().hex() == vector["byte_array_hex"]


@pytest.mark.parametrize("vector", LISTS, ids=lambda v: v["name"])
def test_token_status_list_encodes_the_listed_statuses_byte_exact(
    vector: dict[str, Any],
) -> None:
    status_list = TokenStatusList(vector["size"], bits=vector["bits"])
    for index, value in vector["statuses"]:
        status_list.set(index, value)
    assert status_list.to_json() == {"bits": vector["bits"], "lst": vector["lst"]}


def test_status_list_token_example_structure() -> None:
    vector = IETF["status_list_token_jwt"]
    header, claims = split_status_list_token(vector["token"])
    assert header == vector["header"]
    assert claims.pop("iss") == "https://example.com"
    assert claims == vector["claims"]
    status_list = TokenStatusList.from_json(claims["status_list"])
    assert status_list.to_bytes().hex() == LISTS[0]["byte_array_hex"]


def test_referenced_token_status_claim_example() -> None:
    status = IETF["referenced_token_status"]["status"]
    assert parse_status_claim(status) == ("https://example.com/statuslists/1", 0)
