"""RDF Dataset Canonicalization of JSON-LD documents (RDFC-1.0, https://www.w3.org/TR/rdf-canon/).

The ``eddsa-rdfc-2022`` (vc-di-eddsa §3.2) and ``ecdsa-rdfc-2019`` (vc-di-ecdsa §3.2)
cryptosuites hash the canonical N-Quads of a document and of its proof options. pyld
turns JSON-LD into an RDF dataset; around it this module adds what a signature needs:

- **Offline, pinned contexts.** Every ``@context`` URL resolves through
  :class:`~did_vault.contexts.ContextLoader`; an unknown one raises
  :class:`~did_vault.errors.UnknownContextError` and is never fetched.
- **No silent drops.** JSON-LD ignores a property its contexts do not define, and RDF
  has no place for a relative IRI, so pyld leaves both out of the dataset without a
  word: the signature would not cover them, and a verifier would accept a document
  whose visible fields were never signed. Expansion here stops at the first such
  term with :class:`~did_vault.errors.UndefinedTermError` naming its JSON pointer.
- **RDFC-1.0 output.** pyld implements URDNA2015, whose labelling is the same, but it
  serializes literals with the 2015 escapes (only ``\\t \\n \\r \\" \\\\``). RDFC-1.0's
  canonical N-Quads (RDF 1.2 N-Quads §"Canonical N-Quads") also escape ``\\b \\f``,
  the other C0 controls and U+007F as ``\\uXXXX``, and escape IRIs. The serializer
  here follows RDFC-1.0 both for first-degree hashes and for the output, so labels
  and bytes match other RDFC-1.0 implementations (e.g. rdf-canonize).
- **Bounded work.** RDFC-1.0 §4.4 lets implementations cap the "Hash N-Degree Quads"
  recursion against poison graphs; the cap is rdf-canonize's default (work factor 1:
  as many deep iterations as there are blank nodes that are not uniquely hashed).
"""

import re
import warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from types import MappingProxyType
from typing import Any

from pyld.canon import URDNA2015
from pyld.jsonld import JsonLdError, JsonLdProcessor

from did_vault.contexts import ContextLoader, packaged_loader
from did_vault.errors import (
    DidVaultError,
    MalformedInputError,
    UndefinedTermError,
    UnknownContextError,
)

RDF_LANGSTRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"
XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"

CONTEXT_KEY = "@context"
IMPORT_KEY = "@import"

# RDFC-1.0 canonical N-Quads escapes (the table rdf-canonize uses): in literals,
# ECHAR for BS, HT, LF, FF, CR, '"' and '\', UCHAR for the other C0 controls and DEL;
# in IRIs, UCHAR for controls, space and <>"{}|^`\.
_LITERAL_ESCAPES: Mapping[int, str] = MappingProxyType(
    {code: f"\\u{code:04X}" for code in [*range(0x20), 0x7F]}
    | {0x08: "\\b", 0x09: "\\t", 0x0A: "\\n", 0x0C: "\\f", 0x0D: "\\r"}
    | {ord('"'): '\\"', ord("\\"): "\\\\"}
)
_IRI_ESCAPES: Mapping[int, str] = MappingProxyType(
    {code: f"\\u{code:04X}" for code in [*range(0x21), *map(ord, '<>"{}|^`\\')]}
)

# pyld's test for an IRI it keeps in the dataset (jsonld._is_absolute_iri): anything
# else in a subject, predicate, object or type position is dropped.
_KEPT_IRI = re.compile(r"^([A-Za-z][A-Za-z0-9+\-.]*|_):[^\s]*$")

# BCP 47 well-formedness as JSON-LD processors check it (jsonld.js, pyld): pyld
# warns only when reading RDF, and writes any string as the tag of the N-Quad.
_LANGUAGE_TAG = re.compile(r"^[a-zA-Z]{1,8}(-[a-zA-Z0-9]{1,8})*$")

# pyld recurses a few frames per JSON level; this keeps it well inside Python's
# recursion limit (and real credentials are a handful of levels deep).
MAX_NESTING_DEPTH = 100

# Integers a double holds exactly (ECMAScript Number.MAX_SAFE_INTEGER).
SAFE_INTEGER = 2**53 - 1

# The work factor of RDFC-1.0 §4.4's deep-iteration limit (rdf-canonize's default).
MAX_WORK_FACTOR = 1


def canonicalize_rdfc(
    document: Mapping[str, Any], *, loader: ContextLoader | None = None
) -> bytes:
    """The RDFC-1.0 canonical N-Quads of a JSON-LD document, UTF-8 encoded.

    Each quad ends with a line feed; an empty dataset gives ``b""``. Pass one
    ``loader`` to many calls to reuse its processed contexts.

    Raises:
        UnknownContextError: an ``@context`` URL outside the loader's pinned set.
        UndefinedTermError: a property or type the contexts do not define, or a value
            that would become a relative IRI (both would be left out of the dataset).
        MalformedInputError: not valid JSON-LD, a language tag that is not BCP 47,
            nesting deeper than MAX_NESTING_DEPTH, a number beyond the double range,
            or a poison graph exceeding the canonicalization work bound.
    """
    loader = loader if loader is not None else packaged_loader()
    tree = _json_tree(document)
    _check_contexts(tree, loader)
    with _pyld_errors():
        dataset = _StrictProcessor().to_rdf(tree, _options(loader))
    return _RDFC10().canonicalize(dataset).encode("utf-8")


def check_contexts(
    document: Mapping[str, Any], *, loader: ContextLoader | None = None
) -> None:
    """Check, without JSON-LD processing, that every ``@context`` resolves offline.

    Looks at every ``@context`` in the document (nested ones and those inside
    inline contexts included) and every ``@import``: each entry must be a URL the
    loader knows, an inline object, or ``null``.

    Raises:
        UnknownContextError: a context URL the loader does not know.
        MalformedInputError: an ``@context`` entry that is neither a string, an
            object nor null, or a document nested too deeply.
    """
    loader = loader if loader is not None else packaged_loader()
    _check_contexts(_json_tree(document), loader)


def _check_contexts(tree: Any, loader: ContextLoader) -> None:
    for pointer, url in _context_references(tree, ""):
        if not loader.is_known(url):
            raise UnknownContextError(
                "the JSON-LD context is not in the pinned set and is never fetched",
                url=url,
                pointer=pointer,
            )


def find_undefined_terms(
    document: Mapping[str, Any], *, loader: ContextLoader | None = None
) -> None:
    """Check that JSON-LD expansion keeps every property and type of the document.

    Passes silently when nothing would be dropped.

    Raises:
        UnknownContextError: an ``@context`` URL outside the loader's pinned set.
        UndefinedTermError: the first (in expansion order) property or type the
            contexts do not define, or value that would become a relative IRI;
            ``context["pointer"]`` is its JSON pointer (RFC 6901).
        MalformedInputError: not valid JSON-LD.
    """
    loader = loader if loader is not None else packaged_loader()
    tree = _json_tree(document)
    _check_contexts(tree, loader)
    with _pyld_errors():
        _StrictProcessor().expand(tree, _options(loader))


def expanded_types(
    document: Mapping[str, Any], *, loader: ContextLoader | None = None
) -> tuple[str, ...]:
    """The IRIs the document's top-level ``type`` expands to under its ``@context``.

    A type the contexts do not define stays as written (a relative IRI), as JSON-LD
    expansion leaves it.

    Raises:
        UnknownContextError: an ``@context`` URL outside the loader's pinned set.
        MalformedInputError: not valid JSON-LD.
    """
    loader = loader if loader is not None else packaged_loader()
    tree = {
        CONTEXT_KEY: _json_tree(document.get(CONTEXT_KEY)),
        "type": _json_tree(document.get("type")),
    }
    _check_contexts(tree, loader)
    with _pyld_errors():
        expanded = JsonLdProcessor().expand(tree, _options(loader))
    types = expanded[0].get("@type", []) if expanded else []
    return tuple(t for t in types if isinstance(t, str))


# --- strict expansion ------------------------------------------------------------


class _StrictProcessor(JsonLdProcessor):  # type: ignore[misc]
    """pyld's processor, failing where JSON-LD expansion would drop data.

    pyld recurses through ``_expand`` (every value) and ``_expand_object`` (every
    node object's keys). The overrides keep a stack of the elements being expanded,
    with their JSON pointers, and check what expansion made of them.
    """

    def __init__(self) -> None:
        super().__init__()
        self._path: list[tuple[object, str]] = []

    def _expand(
        self,
        active_ctx: Any,
        active_property: Any,
        element: Any,
        options: Any,
        inside_list: bool = False,
        inside_index: bool = False,
        type_scoped_ctx: Any = None,
    ) -> Any:
        pointer = self._pointer_of(element)
        self._path.append((element, pointer))
        try:
            expanded = super()._expand(
                active_ctx,
                active_property,
                element,
                options,
                inside_list=inside_list,
                inside_index=inside_index,
                type_scoped_ctx=type_scoped_ctx,
            )
        finally:
            self._path.pop()
        if isinstance(expanded, dict) and not _is_language_tag(
            expanded.get("@language", "en")
        ):
            raise MalformedInputError(
                "the language tag is not well-formed (BCP 47)", pointer=pointer
            )
        if isinstance(element, dict) and isinstance(expanded, dict):
            _check_node(element, expanded, pointer)
        elif isinstance(element, str) and isinstance(expanded, dict):
            iri = expanded.get("@id")
            if isinstance(iri, str) and not _KEPT_IRI.match(iri):
                raise UndefinedTermError(
                    "the value is neither a defined term nor an absolute IRI, so "
                    "JSON-LD would drop it",
                    pointer=pointer,
                    term=element,
                )
        return expanded

    def expand(self, input_: Any, options: Any) -> Any:
        expanded = super().expand(input_, options)
        # Value objects built without _expand (language maps) are checked here.
        for language in _languages(expanded):
            if not _is_language_tag(language):
                raise MalformedInputError(
                    "a language tag is not well-formed (BCP 47)", language=language
                )
        return expanded

    def _expand_object(
        self,
        active_ctx: Any,
        active_property: Any,
        expanded_active_property: Any,
        element: Any,
        expanded_parent: Any,
        options: Any,
        inside_list: bool = False,
        type_key: Any = None,
        type_scoped_ctx: Any = None,
    ) -> Any:
        pointer = self._pointer_of(element)
        for key in sorted(element):
            if key == CONTEXT_KEY:
                continue
            iri = self._expand_iri(active_ctx, key, vocab=True)
            # A blank-node predicate ("_:p") is not RDF either: dropped too.
            if not isinstance(iri, str) or not (
                iri.startswith("@") or (_KEPT_IRI.match(iri) and iri[:2] != "_:")
            ):
                raise UndefinedTermError(
                    "the property is not defined by the document's JSON-LD "
                    "contexts, so it would be left out of the signed data",
                    pointer=f"{pointer}/{_escape_pointer(key)}",
                    term=key,
                )
        return super()._expand_object(
            active_ctx,
            active_property,
            expanded_active_property,
            element,
            expanded_parent,
            options,
            inside_list=inside_list,
            type_key=type_key,
            type_scoped_ctx=type_scoped_ctx,
        )

    def _pointer_of(self, element: object) -> str:
        """The JSON pointer of ``element``, found in the element being expanded.

        pyld expands each value with the object that holds it on top of the stack
        (or, for ``@nest`` and index maps, one level further down). Identity, not
        equality, picks the right member.
        """
        if not self._path:
            return ""
        parent, parent_pointer = self._path[-1]
        if parent is element:
            return parent_pointer
        found = _member_pointer(parent, element, parent_pointer)
        if found is not None:
            return found
        for child, child_pointer in _members(parent, parent_pointer):
            found = _member_pointer(child, element, child_pointer)
            if found is not None:
                return found
        return parent_pointer


def _check_node(
    element: dict[str, Any], expanded: dict[str, Any], pointer: str
) -> None:
    """Fail if expansion turned a node's ``@type`` or ``@id`` into a dropped IRI."""
    if "@value" in expanded:
        return
    types = expanded.get("@type", [])
    for value in types if isinstance(types, list) else [types]:
        if isinstance(value, str) and not _KEPT_IRI.match(value):
            raise UndefinedTermError(
                "the type is not defined by the document's JSON-LD contexts, so it "
                "would be left out of the signed data",
                pointer=_find_value(element, value, pointer),
                term=value,
            )
    node_id = expanded.get("@id")
    if isinstance(node_id, str) and not _KEPT_IRI.match(node_id):
        raise UndefinedTermError(
            "the identifier is not an absolute IRI, so the node's statements would "
            "be left out of the signed data",
            pointer=_find_value(element, node_id, pointer),
            term=node_id,
        )


def _is_language_tag(value: object) -> bool:
    return isinstance(value, str) and _LANGUAGE_TAG.match(value) is not None


def _languages(value: Any) -> Iterator[Any]:
    """Every ``@language`` value in expanded JSON-LD."""
    if isinstance(value, dict):
        for key, member in value.items():
            if key == "@language":
                yield member
            else:
                yield from _languages(member)
    elif isinstance(value, list):
        for item in value:
            yield from _languages(item)


def _find_value(element: Mapping[str, Any], value: str, pointer: str) -> str:
    """The pointer of ``value`` among ``element``'s members (or the element's own)."""
    for key, member in element.items():
        if member == value:
            return f"{pointer}/{_escape_pointer(key)}"
        if isinstance(member, list):
            for index, item in enumerate(member):
                if item == value:
                    return f"{pointer}/{_escape_pointer(key)}/{index}"
    return pointer


def _members(container: object, pointer: str) -> Iterator[tuple[object, str]]:
    if isinstance(container, dict):
        for key, value in container.items():
            yield value, f"{pointer}/{_escape_pointer(key)}"
    elif isinstance(container, list):
        for index, value in enumerate(container):
            yield value, f"{pointer}/{index}"


def _member_pointer(container: object, element: object, pointer: str) -> str | None:
    for value, value_pointer in _members(container, pointer):
        if value is element:
            return value_pointer
    return None


def _escape_pointer(key: str) -> str:
    return key.replace("~", "~0").replace("/", "~1")


# --- RDFC-1.0 --------------------------------------------------------------------


class _RDFC10(URDNA2015):  # type: ignore[misc]
    """pyld's URDNA2015 labelling with RDFC-1.0 serialization and work bound."""

    def __init__(self) -> None:
        super().__init__()
        self._deep_iterations_left: int | None = None
        self._deep_iteration_limit = 0

    def canonicalize(self, dataset: dict[str, Any]) -> str:
        # main() labels the blank nodes of self.quads in place; its own output uses
        # pyld's 2015 serializer, so serialize the labelled quads again.
        self.main(dataset, {"format": "application/n-quads"})
        return "".join(sorted(serialize_nquad(quad) for quad in self.quads))

    def hash_first_degree_quads(self, id_: str) -> str:
        info = self.blank_node_info[id_]
        if "hash" not in info:
            nquads = sorted(
                serialize_nquad(
                    {
                        key: component
                        if key == "predicate"
                        else self.modify_first_degree_component(id_, component, key)
                        for key, component in quad.items()
                    }
                )
                for quad in info["quads"]
            )
            info["hash"] = self.hash_nquads(nquads)
        hashed: str = info["hash"]
        return hashed

    def hash_n_degree_quads(self, id_: str, issuer: Any) -> Any:
        if self._deep_iterations_left is None:
            # First call: step 5 is done and hash_to_blank_nodes holds exactly the
            # identifiers that did not get a unique first-degree hash.
            non_unique = sum(len(ids) for ids in self.hash_to_blank_nodes.values())
            self._deep_iteration_limit = non_unique**MAX_WORK_FACTOR
            self._deep_iterations_left = self._deep_iteration_limit
        if self._deep_iterations_left <= 0:
            raise MalformedInputError(
                "the RDF dataset is too costly to canonicalize (RDFC-1.0 deep "
                "iteration limit reached)",
                limit=self._deep_iteration_limit,
            )
        self._deep_iterations_left -= 1
        return super().hash_n_degree_quads(id_, issuer)


def serialize_nquad(quad: Mapping[str, Any]) -> str:
    """One quad in RDFC-1.0 canonical N-Quads form, with its final line feed."""
    parts = [
        _term(quad["subject"]),
        _term(quad["predicate"]),
        _term(quad["object"]),
    ]
    graph = quad.get("name")
    if graph is not None and graph.get("value") is not None:
        parts.append(_term(graph))
    return " ".join(parts) + " .\n"


def _term(term: Mapping[str, Any]) -> str:
    kind, value = term["type"], term["value"]
    if kind == "IRI":
        return f"<{value.translate(_IRI_ESCAPES)}>"
    if kind == "blank node":
        return str(value)
    literal = f'"{value.translate(_LITERAL_ESCAPES)}"'
    datatype = term.get("datatype")
    if datatype == RDF_LANGSTRING:
        language = term.get("language")
        return f"{literal}@{language}" if language else literal
    if datatype and datatype != XSD_STRING:
        return f"{literal}^^<{datatype.translate(_IRI_ESCAPES)}>"
    return literal


# --- glue ------------------------------------------------------------------------


def _options(loader: ContextLoader) -> dict[str, Any]:
    # base None, as jsonld.js does for Data Integrity: a relative IRI stays relative
    # (and is refused). With pyld's default "" it would be resolved against
    # http://example.org/base/ and signed as such.
    return {
        **loader.pyld_options(),
        "base": None,
        "produceGeneralizedRdf": False,
        # As the Data Integrity implementations do (e.g. Digital Bazaar's): text
        # direction becomes an i18n datatype instead of being dropped.
        "rdfDirection": "i18n-datatype",
    }


def _json_tree(value: Any, depth: int = 0) -> Any:
    """A plain dict/list copy of a JSON value (pyld tests for dict and list).

    Raises:
        MalformedInputError: nested deeper than MAX_NESTING_DEPTH.
    """
    if depth > MAX_NESTING_DEPTH:
        raise MalformedInputError(
            "the document is nested too deeply", limit=MAX_NESTING_DEPTH
        )
    if isinstance(value, Mapping):
        return {key: _json_tree(member, depth + 1) for key, member in value.items()}
    if isinstance(value, list | tuple):
        return [_json_tree(item, depth + 1) for item in value]
    if isinstance(value, int) and not isinstance(value, bool):
        return _json_integer(value)
    return value


def _json_integer(value: int) -> int | float:
    """An integer as JSON parsers of the other implementations read it.

    ECMAScript reads every JSON number as a double, so beyond 2**53 an integer
    becomes the nearest double (Python's int-to-float rounds the same way). Signing
    the exact Python int would give N-Quads no JavaScript verifier reproduces.

    Raises:
        MalformedInputError: beyond the double range.
    """
    if -SAFE_INTEGER <= value <= SAFE_INTEGER:
        return value
    try:
        return float(value)
    except OverflowError as exc:
        raise MalformedInputError("a number is beyond the double range") from exc


def _context_references(value: Any, pointer: str) -> Iterator[tuple[str, str]]:
    """(pointer, URL) of every context reference in a JSON value."""
    if isinstance(value, Mapping):
        for key, member in value.items():
            member_pointer = f"{pointer}/{_escape_pointer(str(key))}"
            if key in (CONTEXT_KEY, IMPORT_KEY):
                yield from _context_entries(member, member_pointer)
            else:
                yield from _context_references(member, member_pointer)
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            yield from _context_references(item, f"{pointer}/{index}")


def _context_entries(value: Any, pointer: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        yield pointer, value
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            if isinstance(item, list | tuple):
                raise MalformedInputError(
                    "an @context entry must be a URL, an object or null",
                    pointer=f"{pointer}/{index}",
                )
            yield from _context_entries(item, f"{pointer}/{index}")
    elif isinstance(value, Mapping):
        # An inline context: its term definitions may carry scoped contexts.
        yield from _context_references(value, pointer)
    elif value is not None:
        raise MalformedInputError(
            "an @context entry must be a URL, an object or null", pointer=pointer
        )


@contextmanager
def _pyld_errors() -> Iterator[None]:
    """Turn what pyld raises or warns into did_vault errors.

    pyld wraps a document loader's exception in its own JsonLdError; the loader's
    UnknownContextError is dug out and raised as is. pyld *warns* where it ignores
    part of the input (a term like ``@foo``, a language tag that is not BCP 47):
    ignored input is as bad as an undefined term, so a warning is an error here.
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            yield
        except JsonLdError as exc:
            own = _own_cause(exc)
            if own is not None:
                raise own from exc
            innermost = _innermost_jsonld_error(exc)
            raise MalformedInputError(
                "the document is not valid JSON-LD: " + str(innermost.args[0]),
                jsonld_code=str(innermost.code or innermost.type),
            ) from exc
        except RecursionError as exc:
            raise MalformedInputError("the document is nested too deeply") from exc
        except (KeyError, IndexError, TypeError, AttributeError, ValueError) as exc:
            # pyld has edge cases where odd but parseable input trips its own code
            # (e.g. ``{"@vocab": null}`` with no earlier @vocab: a KeyError). The
            # input is what is wrong here, so it is reported as input.
            if isinstance(exc, DidVaultError):
                raise
            raise MalformedInputError(
                "the JSON-LD processor could not process the document",
                error=type(exc).__name__,
            ) from exc
    for warning in caught:
        if _is_pyld_warning(warning):
            raise MalformedInputError(
                "JSON-LD processing would ignore part of the document: "
                + str(warning.message)
            )
    for warning in caught:  # anyone else's warning goes on as it came
        warnings.warn_explicit(
            warning.message, warning.category, warning.filename, warning.lineno
        )


def _is_pyld_warning(warning: warnings.WarningMessage) -> bool:
    return "pyld" in Path(warning.filename).parts


def _own_cause(exc: BaseException) -> DidVaultError | None:
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, DidVaultError):
            return cause
        cause = cause.__cause__ or cause.__context__
    return None


def _innermost_jsonld_error(exc: JsonLdError) -> Any:
    innermost: Any = exc
    cause = exc.__cause__
    while cause is not None:
        if isinstance(cause, JsonLdError):
            innermost = cause
        cause = cause.__cause__
    return innermost
