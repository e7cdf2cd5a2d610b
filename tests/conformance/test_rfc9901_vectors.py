"""RFC 9901 (SD-JWT) §4.2 examples: Disclosures, their digests, embedded digests."""

import json
from pathlib import Path
from typing import Any

import pytest

from did_vault.sd_jwt._tree import resolve
from did_vault.sd_jwt.disclosure import Disclosure
from did_vault.sd_jwt.holder import index_disclosures

pytestmark = pytest.mark.conformance

VECTORS: dict[str, Any] = json.loads(
    (Path(__file__).parent / "vectors" / "rfc9901" / "rfc9901.json").read_text("utf-8")
)


@pytest.mark.parametrize("vector", VECTORS["disclosures"], ids=lambda v: v["id"])
def test_disclosure_decodes_to_the_rfc_contents(vector: dict[str, Any]) -> None:
    disclosure = Disclosure.parse(vector["disclosure"])
    contents = vector["contents"]
    assert disclosure.salt == contents[0]
    assert disclosure.name == (contents[1] if len(contents) == 3 else None)
    assert disclosure.value == contents[-1]
    assert disclosure.is_array_element is (len(contents) == 2)
    assert disclosure.encoded == vector["disclosure"]


@pytest.mark.parametrize("vector", VECTORS["digests"], ids=lambda v: v["id"])
def test_disclosure_digest_is_the_rfc_digest(vector: dict[str, Any]) -> None:
    assert Disclosure.parse(vector["disclosure"]).digest() == vector["digest"]


def test_differently_encoded_disclosures_have_different_digests() -> None:
    variants = [v for v in VECTORS["disclosures"] if v["id"].startswith("4.2.1")]
    assert len(variants) == 4
    parsed = [Disclosure.parse(v["disclosure"]) for v in variants]
    assert len({(d.salt, d.name, d.value) for d in parsed}) == 1
    assert len({d.digest() for d in parsed}) == len(variants)


def test_issuer_encoding_is_the_rfc_no_white_space_variant() -> None:
    vector = VECTORS["compact_encoding"]
    created = Disclosure.create(
        salt=vector["salt"], name=vector["name"], value=vector["value"]
    )
    assert created.encoded == vector["disclosure"]


@pytest.mark.parametrize("vector", VECTORS["payloads"], ids=lambda v: v["id"])
def test_embedded_digests_resolve_to_the_rfc_claims(vector: dict[str, Any]) -> None:
    disclosures = [Disclosure.parse(text) for text in vector["disclosures"]]
    resolution = resolve(vector["payload"], index_disclosures(disclosures, "sha-256"))
    assert resolution.claims == vector["claims"]
    assert len(resolution.paths) == len(disclosures)
