"""The offline JSON-LD context loader over the packaged contexts."""

import hashlib
import json
import threading
from pathlib import Path

import pytest

from did_vault import contexts
from did_vault.contexts import (
    CREDENTIALS_V2_URL,
    DATA_INTEGRITY_V2_URL,
    DID_V1_URL,
    MULTIKEY_V1_URL,
    PACKAGED_CONTEXTS,
    REGISTRY_V1_URL,
    ContextLoader,
    read_packaged_context,
)
from did_vault.errors import MalformedInputError, UnknownContextError

SPECS_CONTEXTS = Path(__file__).parents[3] / "specs" / "contexts"

# The digests recorded in specs/contexts/SOURCE.md: a changed file fails here.
PINNED_SHA256 = {
    CREDENTIALS_V2_URL: (
        "8a9f494a89ecc51db093e90e84713e07e84d6d9204364a9b3c7868b21751236f"
    ),
    DATA_INTEGRITY_V2_URL: (
        "0f77743daf5b4e8fc067fc5ba5b21044283053aa717fc6b0219843bed3b00363"
    ),
    MULTIKEY_V1_URL: "c5f3806f8286920573221938917988a18a4cc5a09e968d29649613c7a1c2b1f6",
    DID_V1_URL: "62c1054bf404d6dd3a4b26b64f830fd72095f6a26edc4469908c94351352ce5f",
    REGISTRY_V1_URL: (
        "ea0c287d73db35c631d5874f4c1351c916bf15b50eb076a03b238da8fda81641"
    ),
}

EXAMPLE_URL = "https://example.org/contexts/v1"
EXAMPLE_CONTEXT = {"@context": {"thing": "https://example.org/vocab#thing"}}


def test_packaged_contexts_are_the_pinned_urls():
    assert set(PACKAGED_CONTEXTS) == set(PINNED_SHA256)


@pytest.mark.parametrize("url", sorted(PINNED_SHA256))
def test_packaged_context_bytes_match_their_pinned_digest(url):
    digest = hashlib.sha256(read_packaged_context(url)).hexdigest()
    assert digest == PINNED_SHA256[url]


@pytest.mark.parametrize("url", sorted(PINNED_SHA256))
def test_packaged_context_digests_are_recorded_in_source_md(url):
    source = (SPECS_CONTEXTS / "SOURCE.md").read_text(encoding="utf-8")
    assert f"`{url}` | `{PACKAGED_CONTEXTS[url]}`" in source
    assert PINNED_SHA256[url] in source


def test_every_file_in_specs_contexts_is_packaged_or_documentation():
    files = {p.name for p in SPECS_CONTEXTS.iterdir()}
    assert files == {*PACKAGED_CONTEXTS.values(), "SOURCE.md"}


@pytest.mark.parametrize("url", sorted(PINNED_SHA256))
def test_load_returns_the_parsed_context(url):
    document = ContextLoader().load(url)
    assert document == json.loads(read_packaged_context(url))
    assert isinstance(document["@context"], dict)


def test_load_returns_a_fresh_copy_each_time():
    loader = ContextLoader()
    first = loader.load(CREDENTIALS_V2_URL)
    first["@context"]["id"] = "tampered"
    assert loader.load(CREDENTIALS_V2_URL)["@context"]["id"] == "@id"


@pytest.mark.parametrize(
    "url",
    [
        "https://www.w3.org/2018/credentials/v1",
        "https://www.w3.org/ns/credentials/v2/",
        "http://www.w3.org/ns/credentials/v2",
        "https://www.w3.org/ns/credentials/examples/v2",
        "https://w3id.org/security/suites/jws-2020/v1",
        "",
    ],
)
def test_load_rejects_an_unknown_url(url):
    with pytest.raises(UnknownContextError) as caught:
        ContextLoader().load(url)
    assert caught.value.code == "context.unknown"
    assert caught.value.context == {"url": url}


def test_read_packaged_context_rejects_an_unknown_url():
    with pytest.raises(UnknownContextError):
        read_packaged_context("https://example.org/")


def test_loader_as_pyld_document_loader_returns_a_remote_document():
    remote = ContextLoader()(CREDENTIALS_V2_URL, {})
    assert remote["documentUrl"] == CREDENTIALS_V2_URL
    assert remote["contextUrl"] is None
    assert remote["contentType"] == "application/ld+json"
    assert remote["document"]["@context"]["@protected"] is True


def test_loader_as_pyld_document_loader_rejects_an_unknown_url():
    with pytest.raises(UnknownContextError):
        ContextLoader()("https://evil.example/context", {})


def test_extra_contexts_resolve_alongside_the_packaged_ones():
    loader = ContextLoader(extra={EXAMPLE_URL: EXAMPLE_CONTEXT})
    assert loader.load(EXAMPLE_URL) == EXAMPLE_CONTEXT
    assert loader.is_known(EXAMPLE_URL)
    assert loader.urls == frozenset({*PACKAGED_CONTEXTS, EXAMPLE_URL})
    assert not ContextLoader().is_known(EXAMPLE_URL)


def test_extra_contexts_are_copied_when_given():
    given = {"@context": {"thing": "https://example.org/vocab#thing"}}
    loader = ContextLoader(extra={EXAMPLE_URL: given})
    given["@context"]["thing"] = "https://evil.example/"
    assert loader.load(EXAMPLE_URL) == EXAMPLE_CONTEXT


def test_extra_contexts_cannot_replace_a_packaged_context():
    with pytest.raises(ValueError, match="cannot be replaced"):
        ContextLoader(extra={CREDENTIALS_V2_URL: EXAMPLE_CONTEXT})


@pytest.mark.parametrize(
    "extra",
    [{EXAMPLE_URL: ["not", "an", "object"]}, {1: EXAMPLE_CONTEXT}],
)
def test_extra_contexts_must_map_urls_to_objects(extra):
    with pytest.raises(TypeError):
        ContextLoader(extra=extra)


def test_is_known_does_not_read_files(monkeypatch):
    def fail(url):
        raise AssertionError("read")

    monkeypatch.setattr(contexts, "read_packaged_context", fail)
    assert ContextLoader().is_known(DID_V1_URL)


def test_a_packaged_file_is_read_once_per_loader(monkeypatch):
    reads = []
    original = contexts.read_packaged_context

    def counting(url):
        reads.append(url)
        return original(url)

    monkeypatch.setattr(contexts, "read_packaged_context", counting)
    loader = ContextLoader()
    for _ in range(3):
        loader.load(MULTIKEY_V1_URL)
    assert reads == [MULTIKEY_V1_URL]


def test_a_broken_packaged_file_is_a_malformed_input_error(monkeypatch):
    monkeypatch.setattr(contexts, "read_packaged_context", lambda url: b"[1, 2]")
    with pytest.raises(MalformedInputError, match="not a JSON object"):
        ContextLoader().load(DID_V1_URL)
    monkeypatch.setattr(contexts, "read_packaged_context", lambda url: b"{")
    with pytest.raises(MalformedInputError, match="not valid JSON"):
        ContextLoader().load(DID_V1_URL)


def test_pyld_options_give_each_call_a_resolver_over_the_loaders_cache():
    loader = ContextLoader()
    first, second = loader.pyld_options(), loader.pyld_options()
    assert first["documentLoader"] is loader
    assert first["contextResolver"] is not second["contextResolver"]
    assert (
        first["contextResolver"].shared_cache is second["contextResolver"].shared_cache
    )
    assert ContextLoader().pyld_options()["contextResolver"].shared_cache is not (
        first["contextResolver"].shared_cache
    )


def test_resolved_context_cache_is_bounded():
    cache = contexts._BoundedCache(3)
    for index in range(10):
        cache[str(index)] = index
    assert len(cache) == 3
    assert cache.get("0") is None
    assert cache.get("9") == 9


def test_resolved_context_cache_evicts_the_least_recently_used():
    cache = contexts._BoundedCache(2)
    cache["a"], cache["b"] = 1, 2
    assert cache.get("a") == 1  # "b" is now the least recently used
    cache["c"] = 3
    assert cache.get("b") is None
    assert (cache.get("a"), cache.get("c")) == (1, 3)


def test_loader_is_safe_to_share_between_threads():
    loader = ContextLoader()
    results: list[dict[str, object]] = []
    errors: list[BaseException] = []

    def work():
        try:
            for url in PINNED_SHA256:
                results.append(loader.load(url))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert len(results) == 8 * len(PINNED_SHA256)
