"""One-time claim codes: format, forgiving input, salted digests."""

import base64
import hashlib
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from did_vault import InvalidEncodingError
from did_vault.items import (
    claim_code_digest,
    claim_code_matches,
    format_claim_code,
    new_claim_code,
    normalize_claim_code,
)

PRINTED = re.compile(r"^[A-Z2-7]{5}(?:-[A-Z2-7]{5}){4}$")
CODE = "K7QXM-3RT2A-VB6LN-Q4ZHD-E5W2P"
NONCE = "pX3b7Ue0Rk2mYc9Qv1Ls5A"


def test_new_codes_are_printed_in_five_groups_and_differ():
    codes = {new_claim_code() for _ in range(200)}
    assert len(codes) == 200
    assert all(PRINTED.match(code) for code in codes)


@pytest.mark.parametrize(
    "typed",
    [
        "K7QXM-3RT2A-VB6LN-Q4ZHD-E5W2P",
        "k7qxm3rt2avb6lnq4zhde5w2p",
        " K7QXM 3RT2A VB6LN Q4ZHD E5W2P ",
        "K7QXM--3RT2A-VB6LN-Q4ZHD-E5W2P\n",
    ],
)
def test_typing_is_forgiving(typed):
    assert normalize_claim_code(typed) == "K7QXM3RT2AVB6LNQ4ZHDE5W2P"
    assert format_claim_code(typed) == CODE
    assert claim_code_digest(typed, nonce=NONCE) == claim_code_digest(CODE, nonce=NONCE)


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "K7QXM-3RT2A-VB6LN-Q4ZHD",
        CODE + "A",
        "K7QXM-3RT2A-VB6LN-Q4ZHD-E5W21",
        "Ä" * 25,
    ],
)
def test_malformed_codes_are_refused(bad):
    with pytest.raises(InvalidEncodingError) as raised:
        normalize_claim_code(bad)
    assert raised.value.code == "encoding.invalid"
    assert not claim_code_matches(bad, nonce=NONCE, digest="uEi")


def test_digest_is_the_documented_multihash():
    message = b"did-vault/claim-code/v1\x00" + NONCE.encode() + b"\x00"
    message += b"K7QXM3RT2AVB6LNQ4ZHDE5W2P"
    multihash = b"\x12\x20" + hashlib.sha256(message).digest()
    expected = "u" + base64.urlsafe_b64encode(multihash).rstrip(b"=").decode()
    assert claim_code_digest(CODE, nonce=NONCE) == expected
    assert expected.startswith("uEi")


def test_the_nonce_salts_the_digest():
    assert claim_code_digest(CODE, nonce=NONCE) != claim_code_digest(
        CODE, nonce=NONCE + "x"
    )


@given(st.data())
def test_a_code_matches_only_its_own_digest(data):
    code, other = new_claim_code(), new_claim_code()
    nonce = data.draw(st.text(min_size=16, max_size=64))
    digest = claim_code_digest(code, nonce=nonce)
    assert claim_code_matches(code.lower(), nonce=nonce, digest=digest)
    assert not claim_code_matches(other, nonce=nonce, digest=digest)
    assert not claim_code_matches(code, nonce=nonce + "!", digest=digest)
