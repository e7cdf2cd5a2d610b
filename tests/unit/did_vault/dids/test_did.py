"""DID and DID URL syntax (DID Core §3.1, §3.2)."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from did_vault.dids.did import DID, DIDURL
from did_vault.errors import InvalidDIDError, InvalidDIDURLError

ALNUM = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
HEX = "0123456789abcdefABCDEF"

method_names = st.text("abcdefghijklmnopqrstuvwxyz0123456789", min_size=1, max_size=12)
pct_encoded = st.tuples(st.sampled_from(HEX), st.sampled_from(HEX)).map(
    lambda pair: f"%{pair[0]}{pair[1]}"
)
idchars = st.one_of(st.sampled_from(ALNUM + "._-"), pct_encoded)
segments = st.lists(idchars, min_size=1, max_size=10).map("".join)
method_specific_ids = st.builds(
    lambda head, tail: ":".join([*head, tail]),
    st.lists(st.lists(idchars, max_size=5).map("".join), max_size=3),
    segments,
)
pchars = st.one_of(st.sampled_from(ALNUM + "-._~!$&'()*+,;=:@"), pct_encoded)
paths = st.lists(st.lists(pchars, max_size=5).map("".join), max_size=3).map(
    lambda parts: "".join(f"/{part}" for part in parts)
)
queries = st.one_of(
    st.none(),
    st.lists(st.one_of(pchars, st.sampled_from("/?")), max_size=8).map("".join),
)


@given(method=method_names, msid=method_specific_ids)
def test_parse_accepts_every_did_the_abnf_generates(method, msid):
    text = f"did:{method}:{msid}"

    did = DID.parse(text)

    assert (did.method, did.method_specific_id) == (method, msid)
    assert str(did) == text


@given(method=method_names, msid=method_specific_ids)
def test_did_round_trips_through_its_string(method, msid):
    did = DID(method, msid)

    assert DID.parse(str(did)) == did


@given(
    method=method_names,
    msid=method_specific_ids,
    path=paths,
    query=queries,
    fragment=queries,
)
def test_did_url_parse_round_trips_every_generated_url(
    method, msid, path, query, fragment
):
    text = f"did:{method}:{msid}{path}"
    if query is not None:
        text += f"?{query}"
    if fragment is not None:
        text += f"#{fragment}"

    url = DIDURL.parse(text)

    assert str(url) == text
    assert url.did == DID(method, msid)
    assert (url.path, url.query, url.fragment) == (path, query, fragment)


DID_LIKE = "did:" + ALNUM[:10] + ":%._-/#?"


@given(text=st.one_of(st.text(max_size=40), st.text(DID_LIKE, max_size=20)))
def test_parse_either_round_trips_or_raises_did_invalid(text):
    error: InvalidDIDError | None = None
    try:
        did = DID.parse(text)
    except InvalidDIDError as exc:
        error = exc

    if error is None:
        assert str(did) == text
    else:
        assert error.code == "did.invalid"


@given(
    method=method_names,
    msid=method_specific_ids,
    bad=st.sampled_from([" ", "/", "?", "#", "@", "é", "%", "%G0", "\n", "[", "!"]),
)
def test_parse_rejects_a_did_with_a_character_outside_idchar(method, msid, bad):
    with pytest.raises(InvalidDIDError) as exc_info:
        DID.parse(f"did:{method}:{msid}{bad}")

    assert exc_info.value.code == "did.invalid"


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("", id="empty"),
        pytest.param("did:", id="scheme-only"),
        pytest.param("did:example", id="no-msid-separator"),
        pytest.param("did:example:", id="empty-msid"),
        pytest.param("did::123", id="empty-method"),
        pytest.param("did:Example:123", id="uppercase-method"),
        pytest.param("DID:example:123", id="uppercase-scheme"),
        pytest.param("did:ex-ample:123", id="hyphen-in-method"),
        pytest.param("did:example:123:", id="empty-trailing-segment"),
        pytest.param("did:example:12%3", id="truncated-pct-encoding"),
        pytest.param("did:example:12%zz", id="non-hex-pct-encoding"),
        pytest.param("did:example:123#frag", id="fragment-is-a-did-url"),
        pytest.param("did:example:123/path", id="path-is-a-did-url"),
        pytest.param("did:example:123?q=1", id="query-is-a-did-url"),
        pytest.param(" did:example:123", id="leading-space"),
        pytest.param("did:example:123\n", id="trailing-newline"),
        pytest.param("did:example:ünïcode", id="non-ascii"),
        pytest.param("urn:example:123", id="other-scheme"),
    ],
)
def test_parse_rejects_malformed_dids_with_did_invalid(text):
    with pytest.raises(InvalidDIDError) as exc_info:
        DID.parse(text)

    assert exc_info.value.code == "did.invalid"


def test_parse_accepts_colons_and_empty_inner_segments():
    did = DID.parse("did:web:example.com::a%3Ab")

    assert did.method == "web"
    assert did.method_specific_id == "example.com::a%3Ab"


def test_parse_rejects_a_non_string_with_did_invalid():
    with pytest.raises(InvalidDIDError) as exc_info:
        DID.parse(123)  # type: ignore[arg-type]

    assert exc_info.value.code == "did.invalid"


def test_constructor_validates_its_parts():
    with pytest.raises(InvalidDIDError) as exc_info:
        DID("Key", "z6Mk")

    assert exc_info.value.code == "did.invalid"


def test_dids_are_frozen_and_hashable():
    did = DID.parse("did:example:123")

    with pytest.raises(AttributeError):
        did.method = "other"  # type: ignore[misc]
    assert {did, DID.parse("did:example:123")} == {did}


def test_did_url_parse_splits_path_query_and_fragment():
    url = DIDURL.parse("did:example:123/path/to?service=agent&x=1#key-1")

    assert url.did == DID("example", "123")
    assert url.path == "/path/to"
    assert url.query == "service=agent&x=1"
    assert url.fragment == "key-1"
    assert not url.is_bare_did


def test_did_url_parse_accepts_a_bare_did():
    url = DIDURL.parse("did:example:123")

    assert url.is_bare_did
    assert url.fragment is None


def test_did_url_keeps_an_empty_fragment_distinct_from_none():
    url = DIDURL.parse("did:example:123#")

    assert url.fragment == ""
    assert str(url) == "did:example:123#"


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("did:example:123#frag#more", id="two-fragments"),
        pytest.param("did:example:123#fr ag", id="space-in-fragment"),
        pytest.param("did:example:123/pa th", id="space-in-path"),
        pytest.param("did:example:123?q=%zz", id="bad-pct-in-query"),
        pytest.param("did:example:123#[x]", id="bracket-in-fragment"),
        pytest.param("did:Example:123#x", id="bad-did-part"),
        pytest.param("#key-1", id="relative-reference"),
        pytest.param("", id="empty"),
    ],
)
def test_did_url_parse_rejects_malformed_urls_with_did_url_invalid(text):
    with pytest.raises(InvalidDIDURLError) as exc_info:
        DIDURL.parse(text)

    assert exc_info.value.code == "did.url-invalid"


def test_with_fragment_builds_a_did_url():
    url = DID("example", "123").with_fragment("key-1")

    assert str(url) == "did:example:123#key-1"


def test_with_fragment_rejects_a_bad_fragment_with_did_url_invalid():
    with pytest.raises(InvalidDIDURLError) as exc_info:
        DID("example", "123").with_fragment("a#b")

    assert exc_info.value.code == "did.url-invalid"
