"""RDFC-1.0 canonicalization with offline contexts and no silently dropped terms."""

import copy
import warnings
from types import MappingProxyType
from typing import Any

import pytest
from pyld import jsonld

from did_vault.contexts import CREDENTIALS_V2_URL, ContextLoader
from did_vault.credentials import rdfc
from did_vault.credentials.rdfc import (
    canonicalize_rdfc,
    check_contexts,
    find_undefined_terms,
    serialize_nquad,
)
from did_vault.errors import (
    MalformedInputError,
    UndefinedTermError,
    UnknownContextError,
)

V2 = CREDENTIALS_V2_URL
VC = "https://www.w3.org/2018/credentials#"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
VOCAB = "https://vocab.example/#"


def credential(**members: Any) -> dict[str, Any]:
    """A small VCDM 2.0 credential using only terms of the v2 context."""
    document: dict[str, Any] = {
        "@context": [V2],
        "id": "urn:uuid:00000000-0000-4000-8000-000000000001",
        "type": ["VerifiableCredential"],
        "issuer": "did:example:issuer",
        "validFrom": "2026-01-01T00:00:00Z",
        "credentialSubject": {"id": "did:example:subject", "name": "Bike"},
    }
    document.update(members)
    return document


def with_vocab(**members: Any) -> dict[str, Any]:
    """A document whose every term is defined through an inline ``@vocab``."""
    return {"@context": [V2, {"@vocab": VOCAB}], **members}


@pytest.fixture(scope="module")
def loader() -> ContextLoader:
    return ContextLoader()


# --- canonical output ---------------------------------------------------------------


def test_canonical_form_of_a_credential(loader):
    expected = (
        '<did:example:subject> <https://schema.org/name> "Bike" .\n'
        f"<urn:uuid:00000000-0000-4000-8000-000000000001> <{RDF_TYPE}> "
        f"<{VC}VerifiableCredential> .\n"
        "<urn:uuid:00000000-0000-4000-8000-000000000001> "
        f"<{VC}credentialSubject> <did:example:subject> .\n"
        "<urn:uuid:00000000-0000-4000-8000-000000000001> "
        f"<{VC}issuer> <did:example:issuer> .\n"
        "<urn:uuid:00000000-0000-4000-8000-000000000001> "
        f'<{VC}validFrom> "2026-01-01T00:00:00Z"'
        "^^<http://www.w3.org/2001/XMLSchema#dateTime> .\n"
    )
    assert canonicalize_rdfc(credential(), loader=loader) == expected.encode()


def test_output_is_sorted_lines_each_ending_with_a_line_feed(loader):
    lines = canonicalize_rdfc(credential(), loader=loader).decode().splitlines(True)
    assert lines == sorted(lines)
    assert all(line.endswith(" .\n") for line in lines)


def test_document_with_no_statements_canonicalizes_to_nothing(loader):
    assert canonicalize_rdfc({"@context": [V2]}, loader=loader) == b""


def test_member_order_does_not_change_the_output(loader):
    document = credential()
    reordered = dict(reversed(list(document.items())))
    assert canonicalize_rdfc(reordered, loader=loader) == canonicalize_rdfc(
        document, loader=loader
    )


def test_blank_nodes_get_canonical_labels_independent_of_order(loader):
    first = with_vocab(items=[{"serial": "A"}, {"serial": "B"}, {"serial": "C"}])
    second = with_vocab(items=[{"serial": "C"}, {"serial": "A"}, {"serial": "B"}])
    output = canonicalize_rdfc(first, loader=loader)
    assert output == canonicalize_rdfc(second, loader=loader)
    assert b"_:c14n0 " in output
    assert b"_:b" not in output


def test_a_changed_value_changes_the_output(loader):
    other = credential(credentialSubject={"id": "did:example:subject", "name": "Car"})
    assert canonicalize_rdfc(other, loader=loader) != canonicalize_rdfc(
        credential(), loader=loader
    )


def test_input_document_is_not_modified(loader):
    document = credential()
    before = copy.deepcopy(document)
    canonicalize_rdfc(document, loader=loader)
    find_undefined_terms(document, loader=loader)
    assert document == before


def test_any_mapping_and_tuples_are_accepted(loader):
    frozen = MappingProxyType({**credential(), "type": ("VerifiableCredential",)})
    assert canonicalize_rdfc(frozen, loader=loader) == canonicalize_rdfc(
        credential(), loader=loader
    )


def test_a_loader_is_created_when_none_is_given():
    assert canonicalize_rdfc(credential()) == canonicalize_rdfc(
        credential(), loader=ContextLoader()
    )


def test_native_types_and_text_direction_become_typed_literals(loader):
    document = with_vocab(
        count=2,
        ratio=1.5,
        flag=True,
        note={"@value": "hi", "@language": "en", "@direction": "rtl"},
        label={"@value": "hallo", "@language": "de"},
    )
    output = canonicalize_rdfc(document, loader=loader).decode()
    assert '"2"^^<http://www.w3.org/2001/XMLSchema#integer>' in output
    assert '"1.5E0"^^<http://www.w3.org/2001/XMLSchema#double>' in output
    assert '"true"^^<http://www.w3.org/2001/XMLSchema#boolean>' in output
    assert '"hi"^^<https://www.w3.org/ns/i18n#en_rtl>' in output
    assert '"hallo"@de' in output


# --- RDFC-1.0 escaping (pyld's URDNA2015 serializer does not do this) ---------------


@pytest.mark.parametrize(
    ("text", "escaped"),
    [
        ("plain", "plain"),
        ('say "hi"', 'say \\"hi\\"'),
        ("back\\slash", "back\\\\slash"),
        ("tab\there", "tab\\there"),
        ("line\nfeed", "line\\nfeed"),
        ("carriage\rreturn", "carriage\\rreturn"),
        ("back\bspace", "back\\bspace"),
        ("form\ffeed", "form\\ffeed"),
        ("nul\x00", "nul\\u0000"),
        ("start\x01", "start\\u0001"),
        ("vtab\x0b", "vtab\\u000B"),
        ("unit\x1f", "unit\\u001F"),
        ("delete\x7f", "delete\\u007F"),
        ("ünïcödé ✓ 𝄞", "ünïcödé ✓ 𝄞"),
        ("\u0080\u00a0", "\u0080\u00a0"),
    ],
)
def test_literals_use_rdfc_1_0_escapes(loader, text, escaped):
    output = canonicalize_rdfc(with_vocab(note=text), loader=loader).decode()
    assert f'<{VOCAB}note> "{escaped}" .\n' in output


def test_control_characters_escape_in_first_degree_hashes_too(loader):
    # Two blank nodes told apart only by a literal with a control character: their
    # labels depend on the hash of the RDFC-1.0 serialization of that literal.
    document = with_vocab(items=[{"v": "a\x01"}, {"v": "a\x02"}])
    output = canonicalize_rdfc(document, loader=loader).decode()
    assert '"a\\u0001"' in output
    assert '"a\\u0002"' in output
    assert "\x01" not in output


def test_serialize_nquad_escapes_iris_as_rdfc_1_0():
    quad = {
        "subject": {"type": "IRI", "value": "did:example:a{b}|c^d`e\\f"},
        "predicate": {"type": "IRI", "value": "https://example.org/p"},
        "object": {"type": "IRI", "value": 'urn:x:"<>'},
    }
    assert serialize_nquad(quad) == (
        "<did:example:a\\u007Bb\\u007D\\u007Cc\\u005Ed\\u0060e\\u005Cf> "
        "<https://example.org/p> <urn:x:\\u0022\\u003C\\u003E> .\n"
    )


def test_serialize_nquad_writes_graph_names_and_literal_forms():
    subject = {"type": "blank node", "value": "_:c14n0"}
    predicate = {"type": "IRI", "value": "https://example.org/p"}

    def literal(**fields: str) -> str:
        return serialize_nquad(
            {
                "subject": subject,
                "predicate": predicate,
                "object": {"type": "literal", "value": "v", **fields},
                "name": {"type": "blank node", "value": "_:c14n1"},
            }
        )

    assert literal(datatype="http://www.w3.org/2001/XMLSchema#string") == (
        '_:c14n0 <https://example.org/p> "v" _:c14n1 .\n'
    )
    assert literal(datatype=rdfc.RDF_LANGSTRING, language="en-GB") == (
        '_:c14n0 <https://example.org/p> "v"@en-GB _:c14n1 .\n'
    )
    assert literal(datatype="https://example.org/t") == (
        '_:c14n0 <https://example.org/p> "v"^^<https://example.org/t> _:c14n1 .\n'
    )
    named = serialize_nquad(
        {
            "subject": subject,
            "predicate": predicate,
            "object": subject,
            "name": {"type": "IRI", "value": "https://example.org/g"},
        }
    )
    assert (
        named == "_:c14n0 <https://example.org/p> _:c14n0 <https://example.org/g> .\n"
    )


def test_proof_graph_is_a_named_graph(loader):
    document = credential(
        proof={
            "type": "DataIntegrityProof",
            "cryptosuite": "eddsa-rdfc-2022",
            "created": "2026-01-01T00:00:00Z",
            "verificationMethod": "did:example:issuer#key-1",
            "proofPurpose": "assertionMethod",
            "proofValue": "z3abc",
        }
    )
    output = canonicalize_rdfc(document, loader=loader).decode()
    assert (
        "<urn:uuid:00000000-0000-4000-8000-000000000001> "
        "<https://w3id.org/security#proof> _:c14n0 .\n" in output
    )
    assert (
        '_:c14n1 <https://w3id.org/security#proofValue> "z3abc"'
        "^^<https://w3id.org/security#multibase> _:c14n0 .\n" in output
    )


# --- bounded work (RDFC-1.0 §4.4 poison graphs) ----------------------------------


def ring_of_blank_nodes(size: int) -> dict[str, Any]:
    return {
        "@graph": [
            {
                "@id": f"_:n{i}",
                "https://example.org/next": {"@id": f"_:n{(i + 1) % size}"},
            }
            for i in range(size)
        ]
    }


@pytest.mark.parametrize("size", [3, 8, 20])
def test_poison_graph_exceeding_the_deep_iteration_limit_is_refused(loader, size):
    with pytest.raises(MalformedInputError) as caught:
        canonicalize_rdfc(ring_of_blank_nodes(size), loader=loader)
    assert caught.value.code == "input.malformed"
    assert caught.value.context == {"limit": size}


def test_blank_nodes_needing_few_deep_iterations_still_canonicalize(loader):
    document = with_vocab(items=[{"b": 1}, {"b": 1}, {"c": {"d": "x"}}])
    assert canonicalize_rdfc(document, loader=loader).count(b"_:c14n") > 0


# --- unknown contexts -------------------------------------------------------------


@pytest.mark.parametrize(
    ("document", "pointer"),
    [
        ({"@context": "https://evil.example/ctx"}, "/@context"),
        ({"@context": [V2, "https://evil.example/ctx"]}, "/@context/1"),
        (
            credential(
                credentialSubject={
                    "@context": "https://evil.example/ctx",
                    "id": "did:x:1",
                }
            ),
            "/credentialSubject/@context",
        ),
        (
            {
                "@context": [
                    V2,
                    {"thing": {"@id": "ex:t", "@context": "https://e.example/c"}},
                ]
            },
            "/@context/1/thing/@context",
        ),
        (
            {"@context": [V2, {"@import": "https://evil.example/ctx"}]},
            "/@context/1/@import",
        ),
        (
            {"items": [{"@context": ["https://evil.example/ctx"]}]},
            "/items/0/@context/0",
        ),
    ],
    ids=["top", "second", "nested", "scoped", "import", "in-array"],
)
def test_unknown_context_url_is_refused_without_fetching(loader, document, pointer):
    for check in (check_contexts, find_undefined_terms, canonicalize_rdfc):
        with pytest.raises(UnknownContextError) as caught:
            check(document, loader=loader)
        assert caught.value.code == "context.unknown"
        assert caught.value.context["pointer"] == pointer


def test_known_urls_inline_contexts_and_null_pass_the_context_check(loader):
    check_contexts({"@context": [V2, {"@vocab": VOCAB}, None]}, loader=loader)
    check_contexts(credential(), loader=loader)


@pytest.mark.parametrize("entry", [1, True, [[V2]]])
def test_context_entry_of_the_wrong_type_is_malformed(loader, entry):
    with pytest.raises(MalformedInputError) as caught:
        check_contexts({"@context": entry}, loader=loader)
    assert type(caught.value) is MalformedInputError


def test_an_unknown_context_met_during_processing_is_raised_as_is():
    class Permissive(ContextLoader):
        """Claims to know every URL, so only pyld's own loading can refuse it."""

        def is_known(self, url: str) -> bool:
            return True

    with pytest.raises(UnknownContextError) as caught:
        canonicalize_rdfc({"@context": "https://evil.example/ctx"}, loader=Permissive())
    assert caught.value.context["url"] == "https://evil.example/ctx"


def test_pyld_global_state_is_left_alone(loader):
    default_loader = jsonld._default_document_loader
    canonicalize_rdfc(credential(), loader=loader)
    assert jsonld._default_document_loader is default_loader
    assert jsonld._resolved_context_cache.get(V2) is None


# --- undefined terms ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("document", "pointer", "term"),
    [
        (credential(extra="x"), "/extra", "extra"),
        (
            credential(credentialSubject={"id": "did:example:s", "serialNumber": "1"}),
            "/credentialSubject/serialNumber",
            "serialNumber",
        ),
        (
            credential(
                credentialSubject=[
                    {"id": "did:example:a"},
                    {"id": "did:example:b", "x": 1},
                ]
            ),
            "/credentialSubject/1/x",
            "x",
        ),
        (
            credential(
                credentialSubject={"id": "did:example:s", "owns": {"model": "M"}}
            ),
            "/credentialSubject/owns",
            "owns",
        ),
        (credential(**{"a/b~c": 1}), "/a~1b~0c", "a/b~c"),
        (credential(**{"@foo": 1}), "/@foo", "@foo"),
        (
            {"@context": [V2, {"secret": None}], "secret": "hidden"},
            "/secret",
            "secret",
        ),
    ],
    ids=[
        "top",
        "nested",
        "in-array",
        "object-valued",
        "pointer-escaping",
        "at-key",
        "null",
    ],
)
def test_undefined_property_is_named_by_its_json_pointer(
    loader, document, pointer, term
):
    for check in (find_undefined_terms, canonicalize_rdfc):
        with pytest.raises(UndefinedTermError) as caught:
            check(document, loader=loader)
        assert caught.value.code == "context.term-undefined"
        assert caught.value.context == {"pointer": pointer, "term": term}


def test_undefined_type_is_named_by_its_json_pointer(loader):
    document = credential(type=["VerifiableCredential", "OwnershipCredential"])
    with pytest.raises(UndefinedTermError) as caught:
        canonicalize_rdfc(document, loader=loader)
    assert caught.value.context == {"pointer": "/type/1", "term": "OwnershipCredential"}


def test_undefined_type_of_a_nested_node_is_named(loader):
    document = credential(
        credentialSubject={"id": "did:example:s", "type": "Bicycle", "name": "B"}
    )
    with pytest.raises(UndefinedTermError) as caught:
        find_undefined_terms(document, loader=loader)
    assert caught.value.context == {
        "pointer": "/credentialSubject/type",
        "term": "Bicycle",
    }


def test_undefined_value_of_a_vocab_typed_term_is_refused(loader):
    document = credential(
        proof={
            "type": "DataIntegrityProof",
            "cryptosuite": "eddsa-rdfc-2022",
            "verificationMethod": "did:example:issuer#key-1",
            "proofPurpose": "madeUpPurpose",
        }
    )
    with pytest.raises(UndefinedTermError) as caught:
        canonicalize_rdfc(document, loader=loader)
    assert caught.value.context == {
        "pointer": "/proof/proofPurpose",
        "term": "madeUpPurpose",
    }


@pytest.mark.parametrize(
    ("members", "pointer", "term"),
    [
        ({"id": "relative-id"}, "/id", "relative-id"),
        ({"issuer": "not a url"}, "/issuer", "not a url"),
        (
            {"credentialSubject": {"id": "subject-1", "name": "B"}},
            "/credentialSubject/id",
            "subject-1",
        ),
    ],
)
def test_relative_iri_that_rdf_would_drop_is_refused(loader, members, pointer, term):
    with pytest.raises(UndefinedTermError) as caught:
        canonicalize_rdfc(credential(**members), loader=loader)
    assert caught.value.context == {"pointer": pointer, "term": term}


def test_a_vocab_defines_every_term(loader):
    document = with_vocab(type="Thing", anything={"goes": [1, {"deep": True}]})
    find_undefined_terms(document, loader=loader)
    assert b"https://vocab.example/#deep" in canonicalize_rdfc(document, loader=loader)


def test_a_valid_credential_has_no_undefined_terms(loader):
    find_undefined_terms(credential(), loader=loader)  # raises if anything is wrong


def test_compact_iris_and_absolute_iris_as_keys_are_defined(loader):
    document = credential(
        **{"https://schema.org/color": "red", "did:example:claim": "yes"},
    )
    output = canonicalize_rdfc(document, loader=loader)
    assert b'<https://schema.org/color> "red"' in output


# --- invalid JSON-LD ----------------------------------------------------------------


def test_redefining_a_protected_term_is_malformed(loader):
    document = {"@context": [V2, {"name": "https://evil.example/name"}], "name": "x"}
    with pytest.raises(MalformedInputError) as caught:
        canonicalize_rdfc(document, loader=loader)
    assert caught.value.context["jsonld_code"] == "protected term redefinition"


def test_invalid_json_ld_is_malformed_and_names_pyld_code(loader):
    document = credential(name={"@value": "x", "@type": "relative"})
    with pytest.raises(MalformedInputError) as caught:
        canonicalize_rdfc(document, loader=loader)
    assert type(caught.value) is MalformedInputError
    assert caught.value.context["jsonld_code"] == "invalid typed value"


@pytest.mark.parametrize("tag", ["not a tag!", "en_US", "", "toolongtag-x"])
def test_a_language_tag_that_is_not_bcp47_is_malformed(loader, tag):
    document = with_vocab(note={"@value": "x", "@language": tag})
    with pytest.raises(MalformedInputError, match="BCP 47") as caught:
        canonicalize_rdfc(document, loader=loader)
    assert caught.value.context == {"pointer": "/note"}


def test_a_bad_language_tag_in_a_language_map_is_malformed(loader):
    document = {
        "@context": [
            V2,
            {"label": {"@id": f"{VOCAB}label", "@container": "@language"}},
        ],
        "label": {"en": "bike", "en_GB": "bicycle"},
    }
    with pytest.raises(MalformedInputError, match="BCP 47") as caught:
        find_undefined_terms(document, loader=loader)
    assert caught.value.context == {"language": "en_gb"}


def test_well_formed_language_tags_are_lowercased(loader):
    document = with_vocab(note={"@value": "x", "@language": "EN-gb"})
    assert b'"x"@en-gb' in canonicalize_rdfc(document, loader=loader)


def test_a_blank_node_property_rdf_would_drop_is_refused(loader):
    with pytest.raises(UndefinedTermError) as caught:
        canonicalize_rdfc(with_vocab(**{"_:p": "x"}), loader=loader)
    assert caught.value.context == {"pointer": "/_:p", "term": "_:p"}


def test_a_reserved_keyword_term_pyld_would_ignore_is_malformed(loader):
    document = {"@context": [V2, {"@reserved": "https://example.org/r"}]}
    with pytest.raises(MalformedInputError, match="ignore part of the document"):
        canonicalize_rdfc(document, loader=loader)


@pytest.mark.parametrize(
    "check", [check_contexts, find_undefined_terms, canonicalize_rdfc]
)
def test_deeply_nested_document_is_malformed_not_a_crash(loader, check):
    document: dict[str, Any] = {"leaf": 1}
    for _ in range(5000):
        document = {"n": document}
    with pytest.raises(MalformedInputError, match="nested too deeply"):
        check({"@context": [V2, {"@vocab": VOCAB}], **document}, loader=loader)


def test_nesting_up_to_the_limit_canonicalizes(loader):
    document: dict[str, Any] = {"leaf": 1}
    for level in range(rdfc.MAX_NESTING_DEPTH - 2):
        document = {f"n{level}": document}  # distinct, so no deep iterations
    output = canonicalize_rdfc({"@context": [V2, {"@vocab": VOCAB}], **document})
    assert output.count(b"\n") == rdfc.MAX_NESTING_DEPTH - 1


def test_warnings_from_elsewhere_are_passed_on():
    with pytest.warns(DeprecationWarning, match="not ours"), rdfc._pyld_errors():
        warnings.warn("not ours", DeprecationWarning, stacklevel=1)


@pytest.mark.parametrize(
    ("number", "lexical"),
    [
        (2**53 - 1, '"9007199254740991"^^<http://www.w3.org/2001/XMLSchema#integer>'),
        (2**53 + 1, '"9007199254740992"^^<http://www.w3.org/2001/XMLSchema#integer>'),
        (
            12345678901234567890,
            '"12345678901234567168"^^<http://www.w3.org/2001/XMLSchema#integer>',
        ),
        (
            -(2**60) - 1,
            '"-1152921504606846976"^^<http://www.w3.org/2001/XMLSchema#integer>',
        ),
        (10**21, '"1.0E21"^^<http://www.w3.org/2001/XMLSchema#double>'),
    ],
)
def test_integers_beyond_2_53_are_read_as_the_nearest_double(loader, number, lexical):
    # As every ECMAScript JSON parser reads them, so JavaScript verifiers agree.
    output = canonicalize_rdfc(with_vocab(n=number), loader=loader).decode()
    assert f"<{VOCAB}n> {lexical} .\n" in output


def test_an_integer_beyond_the_double_range_is_malformed(loader):
    with pytest.raises(MalformedInputError, match="double range"):
        canonicalize_rdfc(with_vocab(n=10**400), loader=loader)


def test_processor_crash_on_null_vocab_is_reported_as_malformed_input() -> None:
    # pyld raises a bare KeyError for this input; it must not escape as a crash.
    document = {
        "@context": ["https://www.w3.org/ns/credentials/v2", {"@vocab": None}],
        "type": ["VerifiableCredential"],
        "issuer": "did:example:1",
        "credentialSubject": {"x": 1},
    }
    with pytest.raises(MalformedInputError) as exc_info:
        find_undefined_terms(document)
    assert exc_info.value.code == "input.malformed"
