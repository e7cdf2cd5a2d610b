"""JSON Canonicalization Scheme (RFC 8785, https://www.rfc-editor.org/rfc/rfc8785).

``canonicalize(value)`` returns the UTF-8 bytes of the canonical form: no whitespace,
object members sorted by the UTF-16 code units of their names, strings with the
minimal escaping of RFC 8785 §3.2.2.2, numbers read as IEEE 754 doubles (as an
ECMAScript parser reads them: integers round to the nearest double) and written in the
``Number``-to-string form (§3.2.2.3). Lone surrogates, NaN, the infinities, integers
beyond the double range and non-string member names are refused with
``CanonicalizationError``.

Two paths produce the same bytes:

* the fast path hands the value to the C-accelerated ``json.dumps`` (sorted keys,
  compact separators, no ASCII escaping) after one cheap scan has proved that its
  output is RFC 8785 for this value: every member name lies in the Basic
  Multilingual Plane (so code-point order is UTF-16 order), every integer lies within
  ±(2**53 - 1), and every float prints the same in Python and ECMAScript;
* ``canonicalize_reference`` is a direct, character-by-character transcription of the
  RFC. It serves every value the scan refuses, and is what the tests compare the
  fast path against (the RFC's test data and Hypothesis on random JSON).
"""

import json
import math
from collections.abc import Callable, Mapping, Sequence
from json.encoder import (  # type: ignore[attr-defined]
    c_make_encoder,
    encode_basestring,
)
from typing import Any

from did_vault.errors import CanonicalizationError

MAX_EXACT_INTEGER = 2**53 - 1
"""Integers within ± this print the same in Python and ECMAScript (I-JSON range)."""

_BMP_MAX = "\uffff"
_FAST_PATH_MAX_NODES = 1_000_000
_ESCAPES = {
    '"': '\\"',
    "\\": "\\\\",
    "\b": "\\b",
    "\f": "\\f",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
}


def _not_json(value: object) -> Any:
    raise TypeError(f"not a JSON value: {type(value).__name__}")


def _make_fast_encoder() -> Callable[[Any], str]:
    """``json.dumps(ensure_ascii=False, separators=(",", ":"), sort_keys=True)``.

    The C encoder is built once, without a circular-reference memo (so it holds no
    state between calls; a cycle ends in RecursionError, reported as too deep).
    """
    if c_make_encoder is None:  # pragma: no cover - CPython always has _json
        return json.JSONEncoder(
            ensure_ascii=False, separators=(",", ":"), sort_keys=True, allow_nan=False
        ).encode
    chunks = c_make_encoder(
        None, _not_json, encode_basestring, None, ":", ",", True, False, False
    )
    return lambda value: "".join(chunks(value, 0))


_encode_fast = _make_fast_encoder()


def canonicalize(value: Any) -> bytes:
    """The RFC 8785 canonical form of a JSON value, as UTF-8 bytes.

    Raises:
        CanonicalizationError: a lone surrogate, NaN or an infinity, an integer
            beyond the double range, a non-string member name, or nesting too deep.
        TypeError: a value that is not JSON (e.g. a set, bytes or a datetime).
    """
    try:
        fast = _is_fast_path_exact(value)
    except RecursionError as exc:
        raise CanonicalizationError("the JSON value is nested too deeply") from exc
    if not fast:
        return canonicalize_reference(value)
    try:
        return _encode_fast(value).encode("utf-8")
    except RecursionError as exc:
        raise CanonicalizationError("the JSON value is nested too deeply") from exc
    except UnicodeEncodeError as exc:
        raise CanonicalizationError(
            "a string holds a lone surrogate, which UTF-8 cannot encode"
        ) from exc


def _is_fast_path_exact(value: Any) -> bool:
    """Whether ``json.dumps`` output is exactly RFC 8785 for this value.

    String values need no look: ``json.dumps`` escapes exactly the characters RFC 8785
    escapes, in the same (lowercase ``\\u00xx``) form, and a lone surrogate makes
    the final UTF-8 encoding fail.
    """
    stack = [value]
    pop, push, extend = stack.pop, stack.append, stack.extend
    budget = _FAST_PATH_MAX_NODES  # a cyclic value would otherwise loop forever
    while stack:
        budget -= 1
        if budget < 0:
            return False
        item = pop()
        kind = type(item)
        if kind is dict:
            for key, member in item.items():
                if type(key) is not str or (not key.isascii() and max(key) > _BMP_MAX):
                    return False
                if type(member) is not str:
                    push(member)
        elif kind is list:
            extend(item)
        elif kind is str or kind is bool or item is None:
            continue
        elif kind is int:
            if not -MAX_EXACT_INTEGER <= item <= MAX_EXACT_INTEGER:
                return False
        elif kind is float:
            if not math.isfinite(item) or repr(item) != format_number(item):
                return False
        else:
            return False
    return True


def canonicalize_reference(value: Any) -> bytes:
    """RFC 8785 by the letter: the slow reference path (same result, same errors).

    Raises:
        CanonicalizationError, TypeError: as ``canonicalize``.
    """
    parts: list[str] = []
    try:
        _serialize(value, parts)
    except RecursionError as exc:
        raise CanonicalizationError("the JSON value is nested too deeply") from exc
    return "".join(parts).encode("utf-8")


def _serialize(value: Any, out: list[str]) -> None:
    if value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, str):
        out.append(serialize_string(value))
    elif isinstance(value, int):
        out.append(format_number(_to_double(value)))
    elif isinstance(value, float):
        out.append(format_number(value))
    elif isinstance(value, Mapping):
        for key in value:
            if not isinstance(key, str):
                raise CanonicalizationError("an object member name is not a string")
        out.append("{")
        for index, key in enumerate(sorted(value, key=_utf16_units)):
            if index:
                out.append(",")
            out.append(serialize_string(key))
            out.append(":")
            _serialize(value[key], out)
        out.append("}")
    elif isinstance(value, Sequence) and not isinstance(value, bytes | bytearray):
        out.append("[")
        for index, element in enumerate(value):
            if index:
                out.append(",")
            _serialize(element, out)
        out.append("]")
    else:
        raise TypeError(f"not a JSON value: {type(value).__name__}")


def _to_double(integer: int) -> float:
    """The nearest IEEE 754 double, as an ECMAScript parser reads the same JSON text.

    JCS numbers are doubles (§3.2.2.3): 9007199254740993 canonicalizes as
    9007199254740992 on every conforming implementation.
    """
    try:
        return float(integer)
    except OverflowError as exc:
        raise CanonicalizationError(
            "an integer too large for an IEEE 754 double"
        ) from exc


def _utf16_units(name: str) -> bytes:
    """Sort key: big-endian UTF-16 bytes compare exactly as UTF-16 code units do."""
    try:
        return name.encode("utf-16-be")
    except UnicodeEncodeError as exc:
        raise CanonicalizationError("a member name holds a lone surrogate") from exc


def serialize_string(text: str) -> str:
    """A JSON string literal per RFC 8785 §3.2.2.2 (minimal escaping).

    Raises:
        CanonicalizationError: the text holds a lone surrogate.
    """
    out = ['"']
    for char in text:
        code = ord(char)
        if char in _ESCAPES:
            out.append(_ESCAPES[char])
        elif code < 0x20:
            out.append(f"\\u{code:04x}")
        elif 0xD800 <= code <= 0xDFFF:
            raise CanonicalizationError("a string holds a lone surrogate")
        else:
            out.append(char)
    out.append('"')
    return "".join(out)


def format_number(number: float) -> str:
    """ECMAScript ``Number.prototype.toString`` of a finite double (ECMA-262 §7.1.12.1).

    Python's ``repr`` gives the same shortest round-trip digits as ECMAScript; only
    the layout (exponent thresholds, ``e+`` / ``e-``, no ``.0``) differs.

    Raises:
        CanonicalizationError: NaN or an infinity.
    """
    if not math.isfinite(number):
        raise CanonicalizationError("NaN and the infinities are not JSON numbers")
    if number == 0:
        return "0"  # also -0
    sign = "-" if number < 0 else ""
    mantissa, _, exponent_text = repr(abs(number)).partition("e")
    whole, _, fraction = mantissa.partition(".")
    digits = (whole + fraction).lstrip("0")
    # the value is 0.digits * 10**n (ECMA-262's k digits and n)
    n = len(whole) + (int(exponent_text) if exponent_text else 0)
    if whole == "0":
        n -= len(fraction) - len(fraction.lstrip("0")) + 1
    digits = digits.rstrip("0")
    k = len(digits)
    if k <= n <= 21:
        return sign + digits + "0" * (n - k)
    if 0 < n <= 21:
        return sign + digits[:n] + "." + digits[n:]
    if -6 < n <= 0:
        return sign + "0." + "0" * -n + digits
    exponent = n - 1
    exponent_sign = "+" if exponent >= 0 else "-"
    head = digits[0] + ("." + digits[1:] if k > 1 else "")
    return f"{sign}{head}e{exponent_sign}{abs(exponent)}"
