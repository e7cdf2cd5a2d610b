"""Sharing held SD-JWT VCs: claim path text, holder keys, answering and checking."""

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from did_vault.dids import create_did_key
from did_vault.errors import (
    IssuerMismatchError,
    MalformedInputError,
    TemplateExceededError,
    UnsatisfiableQueryError,
)
from did_vault.keys import KeyAlgorithm
from did_vault.sd_jwt.dcql import DCQLQuery, load_template
from did_vault.sd_jwt.holder import SDJWT
from did_vault.sd_jwt.sharing import (
    check_request,
    format_claim_path,
    holder_binding_key,
    holder_key_for,
    parse_claim_path,
    parse_claim_paths,
    share_sd_jwt,
    status_key_resolver,
)
from did_vault.sd_jwt.verifier import verify_sd_jwt

ITEM_CLAIMS = {
    "item": {
        "brand": "Brand X",
        "model": "Trekking 7",
        "serialNumber": "WBX7-1",
        "warranty": {"validUntil": "2028-11-20"},
    },
    "ownedFrom": "2026-11-20",
}
ITEM_SD = [
    ("item", "brand"),
    ("item", "model"),
    ("item", "serialNumber"),
    ("item", "warranty", "validUntil"),
    ("ownedFrom",),
]


@pytest.mark.parametrize(
    ("text", "path"),
    [
        ("item.brand", ("item", "brand")),
        ("colors[1]", ("colors", 1)),
        ("owners[0].name", ("owners", 0, "name")),
        ("a[0][12]", ("a", 0, 12)),
        ('item."model year"', ("item", "model year")),
        ('"x.y"', ("x.y",)),
        ("vct#integrity", ("vct#integrity",)),
    ],
)
def test_claim_paths_parse_and_format_both_ways(text: str, path: Any) -> None:
    assert parse_claim_path(text) == path
    assert format_claim_path(path) == text


@pytest.mark.parametrize(
    "text", ["", ".a", "a.", "a..b", "[0]", "a.[0]", "a[01]", "a b", "a[x]", "a[0]b"]
)
def test_malformed_claim_paths_are_refused(text: str) -> None:
    with pytest.raises(MalformedInputError):
        parse_claim_path(text)


def test_claim_path_lists_split_on_commas_outside_quotes() -> None:
    assert parse_claim_paths(' item.brand, item."a,b" ,colors[2],') == [
        ("item", "brand"),
        ("item", "a,b"),
        ("colors", 2),
    ]
    assert parse_claim_paths("") == []


@settings(database=None, deadline=None, max_examples=200)
@given(
    st.lists(
        st.one_of(st.text(min_size=1, max_size=8), st.integers(0, 10**6)),
        min_size=1,
        max_size=5,
    ).filter(lambda path: isinstance(path[0], str))
)
def test_any_claim_path_round_trips_through_its_text(path: list[Any]) -> None:
    assert parse_claim_path(format_claim_path(tuple(path))) == tuple(path)


def test_holder_binding_key_is_the_authentication_key(kit: Any, resolver: Any) -> None:
    key = kit.HOLDER_KEYS[KeyAlgorithm.P256].public_key
    document = resolver.resolve(str(create_did_key(key)))
    assert holder_binding_key(document) == key


def test_holder_key_for_finds_the_cnf_key_among_many(kit: Any) -> None:
    parsed = SDJWT.parse(kit.issue(KeyAlgorithm.P256).sd_jwt)
    holder = kit.HOLDER_KEYS[KeyAlgorithm.P256]
    others = [kit.ISSUER_KEYS[KeyAlgorithm.P256], kit.ATTACKER_KEY]
    assert holder_key_for(parsed, [*others, holder]) is holder
    assert holder_key_for(parsed, others) is None


def _issued(kit: Any) -> Any:
    return kit.issue(
        KeyAlgorithm.P256,
        claims=ITEM_CLAIMS,
        disclosable=ITEM_SD,
        salt_source=None,
    )


def _warranty_query(kit: Any) -> DCQLQuery:
    data = load_template("warranty-check").to_json()
    data["credentials"][0]["meta"]["vct_values"] = [kit.VCT]
    data.pop("template", None)
    return DCQLQuery.from_json(data)


def test_share_sends_only_what_the_request_needs(kit: Any, resolver: Any) -> None:
    issued = _issued(kit)
    shared = share_sd_jwt(
        SDJWT.parse(issued.sd_jwt),
        _warranty_query(kit),
        holder_key=issued.holder_key,
        audience=kit.AUDIENCE,
        nonce=kit.NONCE,
        now=kit.NOW,
    )
    assert shared.disclosed == (
        ("item", "brand"),
        ("item", "model"),
        ("item", "warranty", "validUntil"),
    )
    assert shared.withheld == (("item", "serialNumber"), ("ownedFrom",))
    verified = verify_sd_jwt(
        shared.presentation,
        audience=kit.AUDIENCE,
        nonce=kit.NONCE,
        resolver=resolver,
        now=kit.NOW,
    )
    answer = check_request(verified, _warranty_query(kit))
    assert [match.query_id for match in answer.matches] == ["item"]


def test_share_refuses_a_request_that_exceeds_its_template(kit: Any) -> None:
    issued = _issued(kit)
    data = load_template("warranty-check").to_json()
    data["credentials"][0]["claims"].append({"path": ["item", "serialNumber"]})
    with pytest.raises(TemplateExceededError):
        share_sd_jwt(
            SDJWT.parse(issued.sd_jwt),
            DCQLQuery.from_json(data),
            holder_key=issued.holder_key,
            audience=kit.AUDIENCE,
            nonce=kit.NONCE,
        )


def test_check_request_refuses_what_was_not_disclosed(kit: Any, resolver: Any) -> None:
    issued = _issued(kit)
    presentation = kit.Issued.present(issued, [("item", "brand")])
    verified = verify_sd_jwt(
        presentation,
        audience=kit.AUDIENCE,
        nonce=kit.NONCE,
        resolver=resolver,
        now=kit.NOW,
    )
    with pytest.raises(UnsatisfiableQueryError):
        check_request(verified, _warranty_query(kit))


@pytest.mark.parametrize("kid", [None, "not a did", "did:key:z6MkOther#k", "{iss}"])
def test_status_keys_come_only_from_the_issuers_did(
    kit: Any, resolver: Any, kid: str | None
) -> None:
    issuer = kit.did_of(kit.ISSUER_KEYS[KeyAlgorithm.ED25519])
    resolve_key = status_key_resolver(resolver, issuer)
    if kid == "{iss}":
        kid = issuer  # the DID itself, no key fragment
    with pytest.raises(IssuerMismatchError):
        resolve_key("https://issuer.example/status/1", kid)
    good = kit.kid_of(kit.ISSUER_KEYS[KeyAlgorithm.ED25519])
    assert (
        resolve_key("https://issuer.example/status/1", good)
        == kit.ISSUER_KEYS[KeyAlgorithm.ED25519].public_key
    )
