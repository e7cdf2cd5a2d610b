"""The holder: parsing, choosing Disclosures, Key Binding, JSON serializations.

Also the properties: random claim trees round-trip issue → present → verify with
exactly the chosen claims disclosed, and any text given to the parser raises only
malformed-input errors.
"""

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from did_vault.errors import DidVaultError, MalformedInputError, MalformedSDJWTError
from did_vault.keys import KeyAlgorithm, PrivateKey, PublicKey
from did_vault.primitives.jws import parse_compact
from did_vault.sd_jwt.disclosure import ClaimPath, digest_of
from did_vault.sd_jwt.holder import SDJWT, from_json, present, to_json
from did_vault.sd_jwt.issuer import NEVER_DISCLOSABLE, issue_sd_jwt
from did_vault.sd_jwt.verifier import verify_sd_jwt

NOW = datetime(2026, 11, 23, 12, 0, 0, tzinfo=UTC)
ISSUER = PrivateKey(KeyAlgorithm.ED25519, bytes(range(32)))
HOLDER = PrivateKey(KeyAlgorithm.ED25519, bytes(31) + b"\x02")


def _names(presentation: str) -> list[str | None]:
    return [d.name for d in SDJWT.parse(presentation).disclosures]


# --- parsing ------------------------------------------------------------------------


def test_parse_splits_the_compact_serialization(kit: Any) -> None:
    issued = kit.issue()
    parsed = SDJWT.parse(issued.sd_jwt)
    assert len(parsed.disclosures) == len(kit.DISCLOSABLE)
    assert parsed.has_key_binding is False
    assert parsed.header["typ"] == "dc+sd-jwt"
    assert parsed.sd_alg == "sha-256"
    assert parsed.to_compact() == issued.sd_jwt
    with_kb = SDJWT.parse(issued.present())
    assert with_kb.has_key_binding is True
    assert with_kb.to_compact() == issued.present()


def test_paths_lists_every_disclosable_claim(kit: Any) -> None:
    paths = SDJWT.parse(kit.issue().sd_jwt).paths()
    assert sorted(paths, key=str) == sorted(kit.DISCLOSABLE, key=str)


@pytest.mark.parametrize(
    "text", ["", "abc", "a.b.c", "~", "a~b", "a.b.c~~", "a.b.c~d~e.f"]
)
def test_parse_rejects_what_is_not_an_sd_jwt(text: str) -> None:
    with pytest.raises(MalformedInputError):
        SDJWT.parse(text)


@given(st.text(max_size=300))
def test_parse_raises_only_malformed_input_on_any_text(text: str) -> None:
    with pytest.raises(MalformedInputError):
        SDJWT.parse(text)


@given(st.text(alphabet='abcXYZ019-_.~{}"[]:,', max_size=200))
def test_parse_raises_only_malformed_input_on_sd_jwt_shaped_text(text: str) -> None:
    with pytest.raises(MalformedInputError):
        SDJWT.parse(text)


# --- choosing Disclosures -----------------------------------------------------------


def test_present_discloses_the_parents_a_nested_claim_needs(kit: Any) -> None:
    presentation = kit.issue().present([("warranty", "valid_until")])
    assert sorted(_names(presentation), key=str) == ["valid_until", "warranty"]


def test_present_discloses_what_a_chosen_claim_holds(kit: Any) -> None:
    presentation = kit.issue().present([("warranty",)])
    assert sorted(_names(presentation), key=str) == ["valid_until", "warranty"]
    presentation = kit.issue().present([("owner",)])
    assert sorted(_names(presentation), key=str) == ["address", "name"]


def test_present_a_clear_claim_inside_a_concealed_one(kit: Any) -> None:
    presentation = kit.issue().present([("warranty", "level")])
    assert _names(presentation) == ["warranty"]


def test_present_array_elements(kit: Any) -> None:
    presentation = kit.issue().present([("colors", 2)])
    assert _names(presentation) == [None]
    assert SDJWT.parse(presentation).disclosures[0].value == "white"


def test_present_nothing_sends_only_the_jwt_and_the_key_binding(kit: Any) -> None:
    presentation = kit.issue().present([])
    _, kb_jwt = presentation.split("~")
    assert parse_compact(kb_jwt).header["typ"] == "kb+jwt"


def test_present_keeps_the_issuers_order(kit: Any) -> None:
    issued = kit.issue()
    order = [d.encoded for d in SDJWT.parse(issued.sd_jwt).disclosures]
    chosen = [
        d.encoded for d in SDJWT.parse(issued.present(kit.DISCLOSABLE)).disclosures
    ]
    assert chosen == order


def test_key_binding_jwt_binds_audience_nonce_time_and_presentation(kit: Any) -> None:
    presentation = kit.issue().present([("brand",)])
    sd_jwt, kb_jwt = (
        presentation[: presentation.rfind("~") + 1],
        presentation.split("~")[-1],
    )
    jws = parse_compact(kb_jwt)
    assert jws.header == {"alg": "EdDSA", "typ": "kb+jwt"}
    assert jws.payload_object() == {
        "iat": int(kit.NOW.timestamp()),
        "aud": kit.AUDIENCE,
        "nonce": kit.NONCE,
        "sd_hash": digest_of(sd_jwt),
    }


def test_present_without_a_holder_key_adds_no_key_binding(kit: Any) -> None:
    sd_jwt = kit.issue().sd_jwt
    bare = present(
        sd_jwt, disclose=[("brand",)], holder_key=None, audience=None, nonce=None
    )
    assert bare.endswith("~")
    assert _names(bare) == ["brand"]


@pytest.mark.parametrize(
    "path", [("nope",), ("colors", 9), ("brand", "x"), (), ("colors", "1")], ids=str
)
def test_present_refuses_a_path_not_in_the_credential(kit: Any, path: Any) -> None:
    with pytest.raises(ValueError, match="not in the credential"):
        kit.issue().present([path])


def test_present_refuses_a_holder_key_other_than_cnf(kit: Any) -> None:
    with pytest.raises(ValueError, match="cnf"):
        kit.issue().present(holder_key=kit.ATTACKER_KEY)
    p256 = kit.issue(KeyAlgorithm.P256)
    with pytest.raises(ValueError, match="cnf"):
        p256.present(holder_key=kit.HOLDER_KEYS[KeyAlgorithm.ED25519])


def test_present_refuses_key_binding_without_audience_or_nonce(kit: Any) -> None:
    with pytest.raises(ValueError, match="audience and a nonce"):
        kit.issue().present(nonce="")


def test_present_refuses_an_sd_jwt_that_already_has_key_binding(kit: Any) -> None:
    issued = kit.issue()
    with pytest.raises(ValueError, match="without a Key Binding"):
        present(
            issued.present(),
            disclose=[],
            holder_key=issued.holder_key,
            audience=kit.AUDIENCE,
            nonce=kit.NONCE,
        )


def test_present_refuses_key_binding_for_an_sd_jwt_without_cnf() -> None:
    sd_jwt = issue_sd_jwt({"a": 1}, key=ISSUER, kid=None, disclosable=[("a",)])
    with pytest.raises(ValueError, match="no cnf"):
        present(sd_jwt, disclose=[], holder_key=HOLDER, audience="a", nonce="n")


# --- JWS JSON serialization -----------------------------------------------------------


@pytest.mark.parametrize("general", [False, True], ids=["flattened", "general"])
def test_json_serialization_round_trips(kit: Any, general: bool) -> None:
    issued = kit.issue()
    for compact in (issued.sd_jwt, issued.present()):
        document = to_json(compact, general=general)
        assert from_json(document) == compact
        assert from_json(json.dumps(document)) == compact
        assert SDJWT.parse(json.dumps(document)).to_compact() == compact


def test_json_serialization_puts_disclosures_and_kb_in_the_unprotected_header(
    kit: Any,
) -> None:
    presentation = kit.issue().present([("brand",)])
    flattened = to_json(presentation)
    assert set(flattened) == {"header", "payload", "protected", "signature"}
    assert flattened["header"]["kb_jwt"] == presentation.split("~")[-1]
    assert len(flattened["header"]["disclosures"]) == 1
    general = to_json(presentation, general=True)
    assert set(general) == {"payload", "signatures"}
    assert general["signatures"][0]["header"] == flattened["header"]


@pytest.mark.parametrize(
    "document",
    [
        "[]",
        "{",
        {"payload": 1, "protected": "a", "signature": "b"},
        {"payload": "p", "signatures": []},
        {"payload": "p", "signatures": [{}, {}]},
        {"payload": "p", "signatures": ["x"]},
        {"payload": "p", "protected": "a", "signature": "b", "header": []},
        {
            "payload": "p",
            "protected": "a",
            "signature": "b",
            "header": {"disclosures": "x"},
        },
        {
            "payload": "p",
            "protected": "a",
            "signature": "b",
            "header": {"disclosures": ["a~b"]},
        },
        {"payload": "p", "protected": "a", "signature": "b", "header": {"kb_jwt": 1}},
        {"payload": "p~", "protected": "a", "signature": "b"},
    ],
    ids=str,
)
def test_from_json_rejects_malformed_documents(document: Any) -> None:
    with pytest.raises(MalformedSDJWTError):
        from_json(document)


# --- properties -----------------------------------------------------------------------

_TEXT = st.text(alphabet=st.characters(codec="utf-8"), max_size=8)
_NAMES = _TEXT.filter(lambda name: name not in ("_sd", "...", "_sd_alg"))
_TOP_NAMES = _NAMES.filter(lambda name: name not in NEVER_DISCLOSABLE)
_LEAVES = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**53), max_value=2**53)
    | st.floats(allow_nan=False, allow_infinity=False)
    | _TEXT
)
_TREES = st.recursive(
    _LEAVES,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(_NAMES, children, max_size=4)
    ),
    max_leaves=12,
)
_CLAIMS = st.dictionaries(_TOP_NAMES, _TREES, min_size=1, max_size=5)


def _all_paths(value: Any, prefix: ClaimPath = ()) -> list[ClaimPath]:
    paths: list[ClaimPath] = []
    if isinstance(value, dict):
        for name, item in value.items():
            paths.append((*prefix, name))
            paths.extend(_all_paths(item, (*prefix, name)))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            paths.append((*prefix, index))
            paths.extend(_all_paths(item, (*prefix, index)))
    return paths


def _without(value: Any, hidden: set[ClaimPath], prefix: ClaimPath = ()) -> Any:
    """``value`` with the claims at ``hidden`` paths (original indices) left out."""
    if isinstance(value, dict):
        return {
            name: _without(item, hidden, (*prefix, name))
            for name, item in value.items()
            if (*prefix, name) not in hidden
        }
    if isinstance(value, list):
        return [
            _without(item, hidden, (*prefix, index))
            for index, item in enumerate(value)
            if (*prefix, index) not in hidden
        ]
    return value


def _issuer_key(iss: str | None, kid: str | None) -> PublicKey:
    key: PublicKey = ISSUER.public_key
    return key


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_random_claim_trees_round_trip_with_exactly_the_chosen_claims(
    data: st.DataObject,
) -> None:
    claims = data.draw(_CLAIMS, label="claims")
    paths = _all_paths(claims)
    disclosable = (
        data.draw(st.lists(st.sampled_from(paths), unique=True), label="disclosable")
        if paths
        else []
    )
    sd_jwt = issue_sd_jwt(
        claims,
        key=ISSUER,
        kid=None,
        disclosable=disclosable,
        typ="example+sd-jwt",
        holder_key=HOLDER.public_key,
        now=NOW,
        decoy_bucket=data.draw(st.sampled_from([0, 2, 4]), label="bucket"),
    )
    parsed = SDJWT.parse(sd_jwt)
    bound = {"cnf": {"jwk": HOLDER.public_key.to_jwk()}, "iat": int(NOW.timestamp())}
    assert parsed.claims() == {**claims, **bound}
    assert sorted(parsed.paths(), key=repr) == sorted(disclosable, key=repr)

    chosen = (
        data.draw(st.lists(st.sampled_from(disclosable), unique=True), label="chosen")
        if disclosable
        else []
    )
    presentation = present(
        sd_jwt,
        disclose=chosen,
        holder_key=HOLDER,
        audience="did:web:verifier.example",
        nonce="nonce-1",
        now=NOW,
    )
    verified = verify_sd_jwt(
        presentation,
        issuer_key_resolver=_issuer_key,
        audience="did:web:verifier.example",
        nonce="nonce-1",
        now=NOW,
        expected_typ="example+sd-jwt",
    )
    sent = {
        path
        for path in disclosable
        if any(path[: len(c)] == c or c[: len(path)] == path for c in chosen)
    }
    expected = _without(claims, set(disclosable) - sent)
    assert verified.claims == {**expected, **bound}
    assert len(verified.disclosed_paths) == len(sent)


@settings(max_examples=80, deadline=None)
@given(
    position=st.integers(min_value=0),
    replacement=st.text(alphabet="aZ09-_.~{}=", min_size=0, max_size=3),
    cut=st.integers(min_value=0, max_value=3),
)
def test_a_damaged_presentation_fails_with_a_did_vault_error(
    position: int, replacement: str, cut: int
) -> None:
    sd_jwt = issue_sd_jwt(
        {"a": 1, "b": [1, 2], "c": {"d": "e"}},
        key=ISSUER,
        kid=None,
        disclosable=[("a",), ("b", 1), ("c", "d")],
        holder_key=HOLDER.public_key,
        now=NOW,
    )
    presentation = present(
        sd_jwt,
        disclose=[("a",), ("c", "d")],
        holder_key=HOLDER,
        audience="aud",
        nonce="n",
        now=NOW,
    )
    index = position % len(presentation)
    damaged = presentation[:index] + replacement + presentation[index + cut :]
    if damaged == presentation:
        return
    with pytest.raises(DidVaultError):
        verify_sd_jwt(
            damaged,
            issuer_key_resolver=_issuer_key,
            audience="aud",
            nonce="n",
            now=NOW,
            expected_typ=None,
        )
