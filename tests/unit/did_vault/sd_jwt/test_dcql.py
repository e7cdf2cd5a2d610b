"""DCQL queries: validation, claims path pointers, matching and minimum disclosure."""

import copy
from typing import Any

import pytest

from did_vault.errors import (
    InvalidDCQLQueryError,
    MalformedInputError,
    UnsatisfiableQueryError,
    VerificationError,
)
from did_vault.sd_jwt.dcql import (
    SD_JWT_VC_FORMAT,
    W3C_VC_FORMAT,
    ClaimsQuery,
    CredentialQuery,
    DCQLQuery,
    HeldCredential,
    answer_query,
    match_credential,
    select_claims,
    template_excess,
)

OWNERSHIP = "urn:did-vault:vct:OwnershipCredential"
ITEM = "urn:did-vault:vct:ItemIdentityCredential"


def _claims() -> dict[str, Any]:
    return {
        "iss": "did:web:brand.example",
        "vct": OWNERSHIP,
        "cnf": {"jwk": {"kty": "OKP", "crv": "Ed25519", "x": "AAAA"}},
        "item": {
            "brand": "Brand X",
            "model": "Trekking 7",
            "gtin": "09506000134352",
            "serialNumber": "42",
            "warranty": {"validUntil": "2028-11-20"},
            "colors": ["moss", "black"],
        },
        "owner": {"name": "Alice Example"},
        "ownedFrom": "2026-11-20",
        "acquisition": {
            "purchaseDate": "2026-11-20",
            "price": {"amount": "2499.00", "currency": "EUR"},
        },
        "insured": True,
        "doors": 1,
    }


DISCLOSABLE = frozenset(
    {
        ("item",),
        ("item", "brand"),
        ("item", "model"),
        ("item", "gtin"),
        ("item", "serialNumber"),
        ("item", "warranty"),
        ("item", "warranty", "validUntil"),
        ("item", "colors", 0),
        ("item", "colors", 1),
        ("owner",),
        ("owner", "name"),
        ("ownedFrom",),
        ("acquisition", "price"),
        ("insured",),
    }
)


def _held(**changes: Any) -> HeldCredential:
    claims = _claims()
    claims.update(changes)
    return HeldCredential(claims=claims, disclosable=DISCLOSABLE)


def _query(*claims: dict[str, Any], **extra: Any) -> dict[str, Any]:
    credential: dict[str, Any] = {
        "id": "c",
        "format": SD_JWT_VC_FORMAT,
        "meta": {"vct_values": [OWNERSHIP]},
    }
    if claims:
        credential["claims"] = list(claims)
    credential.update(extra)
    return {"credentials": [credential]}


def _claim(*path: str | int | None, **extra: Any) -> dict[str, Any]:
    return {"path": list(path), **extra}


# --- validation -------------------------------------------------------------------


def test_parse_reads_a_full_query_and_round_trips() -> None:
    data = {
        "credentials": [
            {
                "id": "ownership",
                "format": SD_JWT_VC_FORMAT,
                "multiple": True,
                "meta": {"vct_values": [OWNERSHIP, ITEM]},
                "trusted_authorities": [
                    {"type": "openid_federation", "values": ["https://ta.example"]}
                ],
                "require_cryptographic_holder_binding": False,
                "claims": [
                    {"id": "a", "path": ["item", "brand"], "values": ["Brand X"]},
                    {"id": "b", "path": ["item", "colors", None]},
                    {"id": "c", "path": ["item", "colors", 0]},
                ],
                "claim_sets": [["a", "b"], ["c"]],
            },
            {"id": "mdl", "format": "mso_mdoc", "meta": {"doctype_value": "x"}},
        ],
        "credential_sets": [
            {"options": [["ownership"], ["mdl"]], "purpose": "resale"},
            {"options": [["mdl"]], "required": False},
        ],
    }
    query = DCQLQuery.from_json(copy.deepcopy(data))
    assert query.credentials[0].vct_values == (OWNERSHIP, ITEM)
    assert query.credentials[0].claims is not None
    assert query.credentials[0].claims[1].path == ("item", "colors", None)
    assert query.credential_sets is not None
    assert not query.credential_sets[1].required
    assert query.to_json() == data
    assert DCQLQuery.from_json(query.to_json()) == query


def test_parse_keeps_the_template_and_description_extension_members() -> None:
    query = DCQLQuery.from_json(
        {"template": "warranty-check", "description": "hi", **_query()}
    )
    assert (query.template, query.description) == ("warranty-check", "hi")


def test_parse_from_text_refuses_non_json() -> None:
    with pytest.raises(InvalidDCQLQueryError) as info:
        DCQLQuery.from_text("{not json")
    assert info.value.code == "dcql.invalid"


def test_invalid_query_error_is_malformed_input() -> None:
    assert issubclass(InvalidDCQLQueryError, MalformedInputError)
    assert issubclass(UnsatisfiableQueryError, VerificationError)


def _mutate(change: Any) -> dict[str, Any]:
    data = _query(_claim("item", "brand", id="brand"))
    change(data)
    return data


INVALID = {
    "not an object": ([], ""),
    "no credentials": ({}, "/credentials"),
    "empty credentials": ({"credentials": []}, "/credentials"),
    "credential not object": ({"credentials": ["x"]}, "/credentials/0"),
    "missing id": (
        _mutate(lambda d: d["credentials"][0].pop("id")),
        "/credentials/0/id",
    ),
    "bad id": (
        _mutate(lambda d: d["credentials"][0].update(id="a b")),
        "/credentials/0/id",
    ),
    "empty id": (
        _mutate(lambda d: d["credentials"][0].update(id="")),
        "/credentials/0/id",
    ),
    "duplicate credential id": (
        _mutate(lambda d: d["credentials"].append(copy.deepcopy(d["credentials"][0]))),
        "/credentials/1/id",
    ),
    "missing format": (
        _mutate(lambda d: d["credentials"][0].pop("format")),
        "/credentials/0/format",
    ),
    "format not string": (
        _mutate(lambda d: d["credentials"][0].update(format=7)),
        "/credentials/0/format",
    ),
    "missing meta": (
        _mutate(lambda d: d["credentials"][0].pop("meta")),
        "/credentials/0/meta",
    ),
    "missing vct_values": (
        _mutate(lambda d: d["credentials"][0].update(meta={})),
        "/credentials/0/meta/vct_values",
    ),
    "empty vct_values": (
        _mutate(lambda d: d["credentials"][0].update(meta={"vct_values": []})),
        "/credentials/0/meta/vct_values",
    ),
    "vct value not string": (
        _mutate(lambda d: d["credentials"][0].update(meta={"vct_values": [1]})),
        "/credentials/0/meta/vct_values/0",
    ),
    "multiple not boolean": (
        _mutate(lambda d: d["credentials"][0].update(multiple="yes")),
        "/credentials/0/multiple",
    ),
    "holder binding not boolean": (
        _mutate(
            lambda d: d["credentials"][0].update(require_cryptographic_holder_binding=0)
        ),
        "/credentials/0/require_cryptographic_holder_binding",
    ),
    "empty claims": (
        _mutate(lambda d: d["credentials"][0].update(claims=[])),
        "/credentials/0/claims",
    ),
    "claim without path": (
        _mutate(lambda d: d["credentials"][0]["claims"][0].pop("path")),
        "/credentials/0/claims/0/path",
    ),
    "empty path": (
        _mutate(lambda d: d["credentials"][0]["claims"][0].update(path=[])),
        "/credentials/0/claims/0/path",
    ),
    "negative index": (
        _mutate(lambda d: d["credentials"][0]["claims"][0].update(path=["a", -1])),
        "/credentials/0/claims/0/path/1",
    ),
    "boolean component": (
        _mutate(lambda d: d["credentials"][0]["claims"][0].update(path=[True])),
        "/credentials/0/claims/0/path/0",
    ),
    "float component": (
        _mutate(lambda d: d["credentials"][0]["claims"][0].update(path=["a", 1.0])),
        "/credentials/0/claims/0/path/1",
    ),
    "object component": (
        _mutate(lambda d: d["credentials"][0]["claims"][0].update(path=[{}])),
        "/credentials/0/claims/0/path/0",
    ),
    "path too deep": (
        _mutate(lambda d: d["credentials"][0]["claims"][0].update(path=["a"] * 33)),
        "/credentials/0/claims/0/path",
    ),
    "float value": (
        _mutate(lambda d: d["credentials"][0]["claims"][0].update(values=[1.5])),
        "/credentials/0/claims/0/values/0",
    ),
    "null value": (
        _mutate(lambda d: d["credentials"][0]["claims"][0].update(values=[None])),
        "/credentials/0/claims/0/values/0",
    ),
    "empty values": (
        _mutate(lambda d: d["credentials"][0]["claims"][0].update(values=[])),
        "/credentials/0/claims/0/values",
    ),
    "duplicate claim id": (
        _mutate(
            lambda d: d["credentials"][0]["claims"].append(
                {"id": "brand", "path": ["x"]}
            )
        ),
        "/credentials/0/claims/1/id",
    ),
    "claim_sets without claims": (
        _mutate(
            lambda d: (
                d["credentials"][0].pop("claims"),
                d["credentials"][0].update(claim_sets=[["brand"]]),
            )
        ),
        "/credentials/0/claim_sets",
    ),
    "claim_sets with an id-less claim": (
        _mutate(
            lambda d: (
                d["credentials"][0]["claims"].append({"path": ["x"]}),
                d["credentials"][0].update(claim_sets=[["brand"]]),
            )
        ),
        "/credentials/0/claims/1/id",
    ),
    "claim_sets naming an unknown claim": (
        _mutate(lambda d: d["credentials"][0].update(claim_sets=[["nope"]])),
        "/credentials/0/claim_sets/0/0",
    ),
    "empty claim_sets option": (
        _mutate(lambda d: d["credentials"][0].update(claim_sets=[[]])),
        "/credentials/0/claim_sets/0",
    ),
    "trusted authority without values": (
        _mutate(
            lambda d: d["credentials"][0].update(trusted_authorities=[{"type": "aki"}])
        ),
        "/credentials/0/trusted_authorities/0/values",
    ),
    "credential_sets empty": (
        _mutate(lambda d: d.update(credential_sets=[])),
        "/credential_sets",
    ),
    "credential set without options": (
        _mutate(lambda d: d.update(credential_sets=[{}])),
        "/credential_sets/0/options",
    ),
    "credential set naming an unknown query": (
        _mutate(lambda d: d.update(credential_sets=[{"options": [["c", "x"]]}])),
        "/credential_sets/0/options/0/1",
    ),
    "credential set required not boolean": (
        _mutate(
            lambda d: d.update(credential_sets=[{"options": [["c"]], "required": 1}])
        ),
        "/credential_sets/0/required",
    ),
    "template not a string": (
        _mutate(lambda d: d.update(template=["warranty-check"])),
        "/template",
    ),
    "too many credential queries": (
        {
            "credentials": [
                {"id": f"c{n}", "format": "x", "meta": {}} for n in range(33)
            ]
        },
        "/credentials",
    ),
}


@pytest.mark.parametrize(("data", "pointer"), INVALID.values(), ids=INVALID.keys())
def test_parse_rejects_invalid_query_with_pointer(data: Any, pointer: str) -> None:
    with pytest.raises(InvalidDCQLQueryError) as info:
        DCQLQuery.from_json(data)
    assert info.value.code == "dcql.invalid"
    assert info.value.context["pointer"] == pointer


def test_parse_accepts_other_formats_without_vct_values() -> None:
    query = DCQLQuery.from_json(
        {"credentials": [{"id": "m", "format": "mso_mdoc", "meta": {}}]}
    )
    assert query.credentials[0].vct_values is None


# --- claims path pointers (OpenID4VP 1.0 §7) ----------------------------------------


def test_select_claims_follows_names_indices_and_null() -> None:
    claims = _claims()
    assert select_claims(("item", "brand"), claims) == [(("item", "brand"), "Brand X")]
    assert select_claims(("item", "colors", 1), claims) == [
        (("item", "colors", 1), "black")
    ]
    assert select_claims(("item", "colors", None), claims) == [
        (("item", "colors", 0), "moss"),
        (("item", "colors", 1), "black"),
    ]


@pytest.mark.parametrize(
    "pointer",
    [
        ("nope",),
        ("item", "colors", 5),
        ("item", "brand", "x"),  # a name applied to a string
        ("item", 0),  # an index applied to an object
        ("item", None),  # null applied to an object
        ("item", "colors", None, "x"),  # a name applied to array strings
    ],
    ids=repr,
)
def test_select_claims_aborts_on_missing_or_mistyped_paths(
    pointer: tuple[str | int | None, ...],
) -> None:
    assert select_claims(pointer, _claims()) is None


def test_select_claims_with_null_over_empty_array_selects_nothing() -> None:
    assert select_claims(("a", None), {"a": []}) is None


# --- matching one credential --------------------------------------------------------


def _credential_query(data: dict[str, Any]) -> CredentialQuery:
    return DCQLQuery.from_json(data).credentials[0]


def test_match_discloses_the_claim_and_its_concealed_parents_only() -> None:
    query = _credential_query(_query(_claim("item", "brand")))
    match = match_credential(query, _held())
    assert match is not None
    assert match.disclose == (("item", "brand"),)
    assert match.disclosures == (("item",), ("item", "brand"))


def test_match_of_an_object_discloses_its_concealed_parts() -> None:
    query = _credential_query(_query(_claim("item", "warranty")))
    match = match_credential(query, _held())
    assert match is not None
    assert match.disclosures == (
        ("item",),
        ("item", "warranty"),
        ("item", "warranty", "validUntil"),
    )


def test_match_of_always_visible_claims_discloses_nothing() -> None:
    query = _credential_query(_query(_claim("acquisition", "purchaseDate")))
    match = match_credential(query, _held())
    assert match is not None
    assert match.disclose == (("acquisition", "purchaseDate"),)
    assert match.disclosures == ()


def test_match_without_claims_discloses_nothing() -> None:
    match = match_credential(_credential_query(_query()), _held())
    assert match is not None
    assert (match.disclose, match.disclosures) == ((), ())


def test_match_of_null_path_discloses_every_element() -> None:
    query = _credential_query(_query(_claim("item", "colors", None)))
    match = match_credential(query, _held())
    assert match is not None
    assert match.disclosures == (
        ("item",),
        ("item", "colors", 0),
        ("item", "colors", 1),
    )


def test_match_of_null_path_with_values_discloses_matching_elements_only() -> None:
    query = _credential_query(_query(_claim("item", "colors", None, values=["black"])))
    match = match_credential(query, _held())
    assert match is not None
    assert match.disclosures == (("item",), ("item", "colors", 1))


def test_match_requires_the_requested_vct() -> None:
    query = _credential_query(_query(_claim("item", "brand")))
    assert match_credential(query, _held(vct=ITEM)) is None
    assert match_credential(query, _held(vct=None)) is None


def test_match_requires_the_requested_format() -> None:
    query = _credential_query(
        {"credentials": [{"id": "m", "format": "mso_mdoc", "meta": {}}]}
    )
    assert match_credential(query, _held()) is None


def test_match_requires_holder_binding_unless_waived() -> None:
    unbound = HeldCredential(
        claims=_claims(), disclosable=DISCLOSABLE, has_holder_binding=False
    )
    assert match_credential(_credential_query(_query()), unbound) is None
    waived = _credential_query(_query(require_cryptographic_holder_binding=False))
    assert match_credential(waived, unbound) is not None


def test_match_fails_when_any_requested_claim_is_missing() -> None:
    query = _credential_query(_query(_claim("item", "brand"), _claim("item", "vin")))
    assert match_credential(query, _held()) is None


@pytest.mark.parametrize(
    ("path", "values", "matches"),
    [
        (("item", "brand"), ["Brand X"], True),
        (("item", "brand"), ["Brand Y", "Brand X"], True),
        (("item", "brand"), ["brand x"], False),
        (("doors",), [1], True),
        (("doors",), [True], False),  # a boolean is not the integer 1
        (("doors",), ["1"], False),
        (("insured",), [True], True),
        (("insured",), [1], False),
        (("item", "warranty"), ["x"], False),  # objects never equal a value
    ],
)
def test_match_values_need_equal_type_and_value(
    path: tuple[str, ...], values: list[Any], matches: bool
) -> None:
    query = _credential_query(_query(_claim(*path, values=values)))
    assert (match_credential(query, _held()) is not None) is matches


def test_match_takes_the_first_satisfiable_claim_set() -> None:
    data = _query(
        _claim("item", "vin", id="vin"),
        _claim("item", "gtin", id="gtin"),
        _claim("item", "serialNumber", id="serial"),
        _claim("item", "brand", id="brand"),
        claim_sets=[["vin"], ["gtin", "serial"], ["brand"]],
    )
    match = match_credential(_credential_query(data), _held())
    assert match is not None
    # ["brand"] would disclose less, but the verifier's preference comes first.
    assert match.claim_set_index == 1
    assert match.disclose == (("item", "gtin"), ("item", "serialNumber"))


def test_match_with_no_satisfiable_claim_set_discloses_nothing() -> None:
    data = _query(
        _claim("item", "vin", id="vin"),
        _claim("nope", id="nope"),
        claim_sets=[["vin"], ["nope"]],
    )
    assert match_credential(_credential_query(data), _held()) is None


def test_match_ignores_duplicate_claims() -> None:
    query = _credential_query(_query(_claim("item", "brand"), _claim("item", "brand")))
    match = match_credential(query, _held())
    assert match is not None
    assert match.disclose == (("item", "brand"),)


def test_credential_query_claim_options_from_ids() -> None:
    query = CredentialQuery(
        id="c",
        format=SD_JWT_VC_FORMAT,
        claims=(ClaimsQuery(("a",), id="a"), ClaimsQuery(("b",), id="b")),
        claim_sets=(("b",), ("a", "b")),
    )
    assert [[c.id for c in option] for option in query.claim_options()] == [
        ["b"],
        ["a", "b"],
    ]


# --- answering a whole query --------------------------------------------------------


def test_answer_picks_the_credential_needing_fewest_disclosures() -> None:
    query = DCQLQuery.from_json(_query(_claim("ownedFrom")))
    concealed = _held()
    visible = HeldCredential(claims=_claims(), disclosable=frozenset())
    answer = answer_query(query, [concealed, visible])
    match = answer.for_query("c")
    assert match is not None
    assert (match.credential_index, match.disclosures) == (1, ())


def test_answer_prefers_the_earlier_claim_set_over_fewer_disclosures() -> None:
    data = _query(
        _claim("item", "gtin", id="gtin"),
        _claim("ownedFrom", id="owned"),
        claim_sets=[["gtin"], ["owned"]],
    )
    no_gtin = _claims()
    del no_gtin["item"]["gtin"]
    first = HeldCredential(claims=no_gtin, disclosable=frozenset())
    answer = answer_query(DCQLQuery.from_json(data), [first, _held()])
    match = answer.for_query("c")
    assert match is not None
    assert (match.credential_index, match.claim_set_index) == (1, 0)


def test_answer_without_credential_sets_needs_every_query() -> None:
    data = _query(_claim("item", "brand"))
    data["credentials"].append(
        {"id": "id_card", "format": SD_JWT_VC_FORMAT, "meta": {"vct_values": ["pid"]}}
    )
    with pytest.raises(UnsatisfiableQueryError) as info:
        answer_query(DCQLQuery.from_json(data), [_held()])
    assert info.value.code == "dcql.unsatisfiable"
    assert info.value.context == {"query": "id_card"}


def test_answer_with_no_credentials_is_unsatisfiable() -> None:
    with pytest.raises(UnsatisfiableQueryError):
        answer_query(DCQLQuery.from_json(_query()), [])


def _two_queries(**sets: Any) -> DCQLQuery:
    data = _query(_claim("item", "brand"))
    data["credentials"].append(
        {"id": "item", "format": SD_JWT_VC_FORMAT, "meta": {"vct_values": [ITEM]}}
    )
    data.update(sets)
    return DCQLQuery.from_json(data)


def test_answer_takes_the_first_satisfiable_credential_set_option() -> None:
    query = _two_queries(credential_sets=[{"options": [["item"], ["c"]]}])
    answer = answer_query(query, [_held()])
    assert [m.query_id for m in answer.matches] == ["c"]


def test_answer_unsatisfiable_required_credential_set() -> None:
    query = _two_queries(credential_sets=[{"options": [["item"]]}])
    with pytest.raises(UnsatisfiableQueryError) as info:
        answer_query(query, [_held()])
    assert info.value.context == {"credential_set": 0}


def test_answer_leaves_out_optional_sets_unless_asked() -> None:
    query = _two_queries(
        credential_sets=[
            {"options": [["item"]]},
            {"options": [["c"]], "required": False},
        ]
    )
    item = _held(vct=ITEM)
    answer = answer_query(query, [_held(), item])
    assert [m.query_id for m in answer.matches] == ["item"]
    both = answer_query(query, [_held(), item], include_optional=True)
    assert [(m.query_id, m.credential_index) for m in both.matches] == [
        ("c", 0),
        ("item", 1),
    ]


def test_answer_skips_unsatisfiable_optional_sets() -> None:
    query = _two_queries(
        credential_sets=[
            {"options": [["c"]]},
            {"options": [["item"]], "required": False},
        ]
    )
    answer = answer_query(query, [_held()], include_optional=True)
    assert [m.query_id for m in answer.matches] == ["c"]
    assert answer.for_query("item") is None


def test_answer_may_use_one_credential_for_two_queries() -> None:
    data = _query(_claim("item", "brand"))
    data["credentials"].append(
        {
            "id": "again",
            "format": SD_JWT_VC_FORMAT,
            "meta": {"vct_values": [OWNERSHIP]},
            "claims": [{"path": ["ownedFrom"]}],
        }
    )
    answer = answer_query(DCQLQuery.from_json(data), [_held()])
    assert [(m.query_id, m.credential_index) for m in answer.matches] == [
        ("c", 0),
        ("again", 0),
    ]


class _FakeSDJWT:
    def __init__(self, claims: dict[str, Any], paths: tuple[Any, ...]) -> None:
        self._claims, self._paths = claims, paths

    def claims(self) -> dict[str, Any]:
        return self._claims

    def paths(self) -> tuple[Any, ...]:
        return self._paths


def test_held_credential_from_a_parsed_sd_jwt() -> None:
    held = HeldCredential.from_sd_jwt(_FakeSDJWT(_claims(), (("item",),)))
    assert held.disclosable == frozenset({("item",)})
    assert (held.vct, held.has_holder_binding) == (OWNERSHIP, True)
    claims = _claims()
    del claims["cnf"]
    assert not HeldCredential.from_sd_jwt(_FakeSDJWT(claims, ())).has_holder_binding


# --- W3C VCs (format ldp_vc, OpenID4VP 1.0 Appendix B.1) ----------------------------

VC = "https://www.w3.org/2018/credentials#VerifiableCredential"
OWNERSHIP_IRI = "https://registry.example/ns/registry#OwnershipCredential"


def _w3c_query(*claims: dict[str, Any], type_values: Any = None) -> dict[str, Any]:
    credential: dict[str, Any] = {
        "id": "vc",
        "format": W3C_VC_FORMAT,
        "meta": {
            "type_values": type_values
            or [["VerifiableCredential", "OwnershipCredential"]]
        },
    }
    if claims:
        credential["claims"] = list(claims)
    return {"credentials": [credential]}


def _w3c_credential() -> dict[str, Any]:
    return {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiableCredential", "OwnershipCredential"],
        "issuer": "did:web:registry.example",
        "credentialSubject": {
            "id": "did:key:z6MkHolder",
            "owns": {"typeOfGood": "did:key:z6MkItem", "ownedFrom": "2026-11-20"},
        },
    }


def _w3c_held(**options: Any) -> HeldCredential:
    return HeldCredential.from_w3c(_w3c_credential(), **options)


def test_parse_reads_an_ldp_vc_query_and_round_trips() -> None:
    data = _w3c_query(
        _claim("credentialSubject", "owns", "typeOfGood"),
        type_values=[["VerifiableCredential"], [VC, OWNERSHIP_IRI]],
    )
    query = DCQLQuery.from_json(data)
    assert query.credentials[0].type_values == (
        ("VerifiableCredential",),
        (VC, OWNERSHIP_IRI),
    )
    assert query.credentials[0].vct_values is None
    assert query.to_json() == data


W3C_INVALID = {
    "no type_values": ({}, "/credentials/0/meta/type_values"),
    "type_values not an array": (
        {"type_values": "VerifiableCredential"},
        "/credentials/0/meta/type_values",
    ),
    "empty type_values": ({"type_values": []}, "/credentials/0/meta/type_values"),
    "a type set not an array": (
        {"type_values": ["VerifiableCredential"]},
        "/credentials/0/meta/type_values/0",
    ),
    "an empty type set": ({"type_values": [[]]}, "/credentials/0/meta/type_values/0"),
    "a type not a string": (
        {"type_values": [["VerifiableCredential", 7]]},
        "/credentials/0/meta/type_values/0/1",
    ),
}


@pytest.mark.parametrize(
    ("meta", "pointer"), W3C_INVALID.values(), ids=W3C_INVALID.keys()
)
def test_parse_rejects_an_ldp_vc_query_without_valid_type_values(
    meta: Any, pointer: str
) -> None:
    data = _w3c_query()
    data["credentials"][0]["meta"] = meta
    with pytest.raises(InvalidDCQLQueryError) as info:
        DCQLQuery.from_json(data)
    assert info.value.context["pointer"] == pointer


def test_held_w3c_credential_is_the_whole_document_with_its_types() -> None:
    held = _w3c_held(expanded_types=[VC, OWNERSHIP_IRI])
    assert held.format == W3C_VC_FORMAT
    assert held.disclosable == frozenset()
    assert held.types == {
        "VerifiableCredential",
        "OwnershipCredential",
        VC,
        OWNERSHIP_IRI,
    }
    assert held.claims == _w3c_credential()


@pytest.mark.parametrize(
    "type_values",
    [
        [["VerifiableCredential", "OwnershipCredential"]],
        [["OwnershipCredential"]],
        [["StolenReportCredential"], [VC, OWNERSHIP_IRI]],
    ],
)
def test_ldp_vc_query_matches_when_one_type_set_is_a_subset(type_values: Any) -> None:
    query = DCQLQuery.from_json(
        _w3c_query(
            _claim("credentialSubject", "owns", "typeOfGood"), type_values=type_values
        )
    )
    match = match_credential(
        query.credentials[0], _w3c_held(expanded_types=[VC, OWNERSHIP_IRI])
    )
    assert match is not None
    assert match.disclose == (("credentialSubject", "owns", "typeOfGood"),)
    assert match.disclosures == ()


@pytest.mark.parametrize(
    "type_values",
    [
        [["VerifiableCredential", "ItemIdentityCredential"]],
        [[OWNERSHIP_IRI]],  # not expanded by the caller: only the written types
    ],
)
def test_ldp_vc_query_refuses_other_types(type_values: Any) -> None:
    query = DCQLQuery.from_json(_w3c_query(type_values=type_values))
    assert match_credential(query.credentials[0], _w3c_held()) is None


def test_ldp_vc_query_refuses_a_missing_claim_or_other_value() -> None:
    missing = DCQLQuery.from_json(_w3c_query(_claim("credentialSubject", "price")))
    with pytest.raises(UnsatisfiableQueryError):
        answer_query(missing, [_w3c_held()])
    other = DCQLQuery.from_json(
        _w3c_query(_claim("credentialSubject", "owns", "typeOfGood", values=["x"]))
    )
    with pytest.raises(UnsatisfiableQueryError):
        answer_query(other, [_w3c_held()])


def test_formats_never_cross() -> None:
    sd_jwt_query = DCQLQuery.from_json(_query(_claim("item", "brand")))
    assert match_credential(sd_jwt_query.credentials[0], _w3c_held()) is None
    w3c_query = DCQLQuery.from_json(_w3c_query())
    assert match_credential(w3c_query.credentials[0], _held()) is None


def test_template_excess_compares_type_values() -> None:
    template = DCQLQuery.from_json(_w3c_query(type_values=[["OwnershipCredential"]]))
    narrower = DCQLQuery.from_json(
        _w3c_query(type_values=[["VerifiableCredential", "OwnershipCredential"]])
    )
    wider = DCQLQuery.from_json(_w3c_query(type_values=[["VerifiableCredential"]]))
    assert template_excess(narrower, template) == []
    assert template_excess(wider, template) == [
        "credential query 'vc' asks for credential types [['VerifiableCredential']]"
    ]
