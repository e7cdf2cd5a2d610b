"""The packaged request templates and the refusal of requests that ask for more."""

import copy
from typing import Any

import pytest

from did_vault.errors import (
    TemplateExceededError,
    UnknownRequestTemplateError,
    UnsatisfiableQueryError,
)
from did_vault.sd_jwt.dcql import (
    DCQLQuery,
    HeldCredential,
    answer_query,
    check_against_template,
    load_template,
    template_excess,
    template_names,
)

OWNERSHIP = "urn:did-vault:vct:OwnershipCredential"
ITEM = "urn:did-vault:vct:ItemIdentityCredential"
TEMPLATES = ("insurance-claim", "resale-ownership", "stolen-check", "warranty-check")


def _ownership(*, gtin: bool = True, vct: str = OWNERSHIP) -> HeldCredential:
    item: dict[str, Any] = {
        "brand": "Brand X",
        "model": "Trekking 7",
        "serialNumber": "WBX7-42",
        "warranty": {"validUntil": "2028-11-20"},
    }
    if gtin:
        item["gtin"] = "09506000134352"
    claims = {
        "iss": "did:web:registry.example",
        "vct": vct,
        "cnf": {"jwk": {"kty": "OKP"}},
        "item": item,
        "owner": {"id": "did:key:z6Mk", "name": "Alice Example"},
        "ownedFrom": "2026-11-20",
        "acquisition": {
            "purchaseDate": "2026-11-20",
            "price": {"amount": "2499.00", "currency": "EUR"},
            "seller": "Example Cycles",
        },
        "valuation": {"amount": "2100.00", "currency": "EUR", "basis": "market"},
    }
    disclosable = {("item",), ("owner",), ("owner", "name"), ("ownedFrom",)}
    disclosable |= {("item", name) for name in item}
    disclosable |= {("acquisition",), ("valuation",)}
    disclosable |= {("acquisition", name) for name in claims["acquisition"]}
    return HeldCredential(claims=claims, disclosable=frozenset(disclosable))


def _revealed(template: str, credential: HeldCredential) -> set[tuple[str | int, ...]]:
    match = answer_query(load_template(template), [credential]).matches[0]
    return set(match.disclosures)


def test_template_names_lists_the_packaged_templates() -> None:
    assert template_names() == TEMPLATES


@pytest.mark.parametrize("name", TEMPLATES)
def test_each_template_is_valid_named_and_described(name: str) -> None:
    query = load_template(name)
    assert query.template == name
    assert query.description
    assert DCQLQuery.from_json(query.to_json()) == query
    assert check_against_template(query, name) == []


@pytest.mark.parametrize(
    "name", ["nope", "", "../problems", "WARRANTY-CHECK", "warranty-check.json"]
)
def test_load_template_refuses_unknown_names(name: str) -> None:
    with pytest.raises(UnknownRequestTemplateError) as info:
        load_template(name)
    assert info.value.code == "dcql.template-unknown"


def test_warranty_check_reveals_brand_model_and_warranty_only() -> None:
    assert _revealed("warranty-check", _ownership()) == {
        ("item",),
        ("item", "brand"),
        ("item", "model"),
        ("item", "warranty"),
    }


def test_warranty_check_accepts_the_brand_item_credential() -> None:
    assert _revealed("warranty-check", _ownership(vct=ITEM))


def test_resale_ownership_prefers_gtin_and_serial() -> None:
    assert _revealed("resale-ownership", _ownership()) == {
        ("item",),
        ("item", "brand"),
        ("item", "model"),
        ("item", "gtin"),
        ("item", "serialNumber"),
        ("ownedFrom",),
    }


def test_resale_ownership_falls_back_to_serial_without_gtin() -> None:
    revealed = _revealed("resale-ownership", _ownership(gtin=False))
    assert ("item", "serialNumber") in revealed
    assert ("item", "gtin") not in revealed


def test_resale_ownership_needs_an_ownership_credential() -> None:
    with pytest.raises(UnsatisfiableQueryError):
        answer_query(load_template("resale-ownership"), [_ownership(vct=ITEM)])


def test_insurance_claim_reveals_value_dates_and_serial_but_not_the_owner() -> None:
    revealed = _revealed("insurance-claim", _ownership())
    assert {
        ("item", "serialNumber"),
        ("acquisition", "purchaseDate"),
        ("acquisition", "price"),
        ("valuation",),
        ("ownedFrom",),
    } <= revealed
    assert not {("owner",), ("owner", "name"), ("acquisition", "seller")} & revealed


def test_stolen_check_reveals_gtin_and_serial_and_nothing_personal() -> None:
    assert _revealed("stolen-check", _ownership()) == {
        ("item",),
        ("item", "gtin"),
        ("item", "serialNumber"),
    }
    without_gtin = _revealed("stolen-check", _ownership(gtin=False))
    assert ("item", "brand") in without_gtin
    assert not any(path[0] in {"owner", "ownedFrom"} for path in without_gtin)


# --- conformance to the named template ----------------------------------------------


def _warranty(change: Any) -> DCQLQuery:
    data = load_template("warranty-check").to_json()
    change(data)
    return DCQLQuery.from_json(data)


def _add_claim(*path: Any) -> Any:
    return lambda d: d["credentials"][0]["claims"].append({"path": list(path)})


NARROWER = {
    "fewer claims": lambda d: d["credentials"][0]["claims"].pop(),
    "no claims": lambda d: d["credentials"][0].pop("claims"),
    "deeper path": lambda d: d["credentials"][0]["claims"][0].update(
        path=["item", "brand", "name"]
    ),
    "values added": lambda d: d["credentials"][0]["claims"][0].update(
        values=["Brand X"]
    ),
    "fewer vct values": lambda d: d["credentials"][0]["meta"].update(vct_values=[ITEM]),
    "claim sets within": lambda d: d["credentials"][0].update(
        claim_sets=[["brand", "model"], ["brand"]]
    ),
    "different ids": lambda d: d["credentials"][0].update(id="x"),
}


@pytest.mark.parametrize("change", NARROWER.values(), ids=NARROWER.keys())
def test_request_asking_for_less_conforms(change: Any) -> None:
    assert check_against_template(_warranty(change), "warranty-check") == []


WIDER = {
    "owner name": (_add_claim("owner", "name"), '["owner", "name"]'),
    "whole item": (
        lambda d: d["credentials"][0]["claims"][0].update(path=["item"]),
        '["item"]',
    ),
    "serial": (_add_claim("item", "serialNumber"), "serialNumber"),
    "other vct": (
        lambda d: d["credentials"][0]["meta"]["vct_values"].append("pid"),
        "credential types",
    ),
    "other format": (
        lambda d: d["credentials"][0].update(format="mso_mdoc", meta={}),
        "format",
    ),
    "multiple": (lambda d: d["credentials"][0].update(multiple=True), "multiple"),
    "second credential": (
        lambda d: d["credentials"].append(
            {**copy.deepcopy(d["credentials"][0]), "id": "second"}
        ),
        "2 credentials together",
    ),
    "second credential via a required set": (
        lambda d: (
            d["credentials"].append(
                {**copy.deepcopy(d["credentials"][0]), "id": "second"}
            ),
            d.update(
                credential_sets=[{"options": [["item"]]}, {"options": [["second"]]}]
            ),
        ),
        "2 credentials together",
    ),
    "excess hidden in a later claim set": (
        lambda d: (
            d["credentials"][0]["claims"].append({"id": "name", "path": ["owner"]}),
            d["credentials"][0].update(claim_sets=[["brand"], ["brand", "name"]]),
        ),
        '["owner"]',
    ),
    "excess in an optional credential set": (
        lambda d: (
            d["credentials"].append(
                {
                    "id": "pid",
                    "format": "dc+sd-jwt",
                    "meta": {"vct_values": ["pid"]},
                }
            ),
            d.update(
                credential_sets=[
                    {"options": [["item"]]},
                    {"options": [["pid"]], "required": False},
                ]
            ),
        ),
        "credential types",
    ),
}


@pytest.mark.parametrize(("change", "finding"), WIDER.values(), ids=WIDER.keys())
def test_request_asking_for_more_than_its_template_is_refused(
    change: Any, finding: str
) -> None:
    query = _warranty(change)
    with pytest.raises(TemplateExceededError) as info:
        check_against_template(query, "warranty-check")
    assert info.value.code == "dcql.exceeds-template"
    assert info.value.context["template"] == "warranty-check"
    assert finding in info.value.detail


@pytest.mark.parametrize(("change", "finding"), WIDER.values(), ids=WIDER.keys())
def test_request_asking_for_more_only_warns_when_allowed(
    change: Any, finding: str
) -> None:
    warnings = check_against_template(
        _warranty(change), "warranty-check", allow_excess=True
    )
    assert warnings
    assert any(finding in warning for warning in warnings)


def test_template_value_constraint_is_not_widened() -> None:
    template = DCQLQuery.from_json(
        {
            "credentials": [
                {
                    "id": "c",
                    "format": "dc+sd-jwt",
                    "meta": {"vct_values": [OWNERSHIP]},
                    "claims": [{"path": ["item", "brand"], "values": ["Brand X"]}],
                }
            ]
        }
    )
    same = template.to_json()
    assert template_excess(DCQLQuery.from_json(same), template) == []
    wider = copy.deepcopy(same)
    wider["credentials"][0]["claims"][0]["values"].append("Brand Y")
    unconstrained = copy.deepcopy(same)
    del unconstrained["credentials"][0]["claims"][0]["values"]
    for data in (wider, unconstrained):
        assert template_excess(DCQLQuery.from_json(data), template)


def test_null_in_a_template_covers_any_index_but_not_the_reverse() -> None:
    def query(*path: Any) -> DCQLQuery:
        return DCQLQuery.from_json(
            {
                "credentials": [
                    {
                        "id": "c",
                        "format": "dc+sd-jwt",
                        "meta": {"vct_values": [OWNERSHIP]},
                        "claims": [{"path": list(path)}],
                    }
                ]
            }
        )

    assert template_excess(query("evidence", 0), query("evidence", None)) == []
    assert template_excess(query("evidence", None), query("evidence", None)) == []
    assert template_excess(query("evidence", None), query("evidence", 0))
    assert template_excess(query("evidence", "0"), query("evidence", None))


def test_alternative_credentials_each_within_the_template_conform() -> None:
    data = load_template("stolen-check").to_json()
    second = copy.deepcopy(data["credentials"][0])
    second["id"] = "other"
    data["credentials"].append(second)
    data["credential_sets"] = [{"options": [["item"], ["other"]]}]
    assert check_against_template(DCQLQuery.from_json(data), "stolen-check") == []


def test_too_many_credential_set_combinations_are_refused() -> None:
    data = load_template("stolen-check").to_json()
    data["credential_sets"] = [{"options": [["item"], ["item"]]} for _ in range(11)]
    query = DCQLQuery.from_json(data)
    with pytest.raises(TemplateExceededError):
        check_against_template(query, "stolen-check")
    assert check_against_template(query, "stolen-check", allow_excess=True)


def test_check_against_an_unknown_template_fails() -> None:
    with pytest.raises(UnknownRequestTemplateError):
        check_against_template(load_template("stolen-check"), "no-such-template")
