"""DID and DID URL syntax (W3C DID Core 1.0 §3.1 and §3.2, https://www.w3.org/TR/did-core/).

The grammar, with the RFC 3986 rules it borrows::

    did                = "did:" method-name ":" method-specific-id
    method-name        = 1*method-char
    method-char        = %x61-7A / DIGIT
    method-specific-id = *( *idchar ":" ) 1*idchar
    idchar             = ALPHA / DIGIT / "." / "-" / "_" / pct-encoded
    pct-encoded        = "%" HEXDIG HEXDIG
    did-url            = did path-abempty [ "?" query ] [ "#" fragment ]

Values are kept exactly as written: no case folding and no percent-decoding, because
DID Core compares DIDs as strings.
"""

import re
from dataclasses import dataclass
from typing import Self

from did_vault.errors import InvalidDIDError, InvalidDIDURLError

DID_SCHEME = "did"

_PCT = r"%[0-9A-Fa-f]{2}"
_METHOD_NAME = r"[a-z0-9]+"
# (*idchar ":") 1*idchar is exactly: a non-empty run of idchars and colons that does
# not end with a colon. Matched as runs (possessive) rather than a character at a
# time, which makes parsing several times faster; the trailing-colon rule is the
# lookbehind.
_METHOD_SPECIFIC_ID = rf"(?:[A-Za-z0-9._:-]++|{_PCT})+(?<!:)"
# RFC 3986: pchar = unreserved / pct-encoded / sub-delims / ":" / "@" (in runs)
_PATH_ABEMPTY = rf"(?:/(?:[A-Za-z0-9._~!$&'()*+,;=:@-]++|{_PCT})*)*"
_QUERY = rf"(?:[A-Za-z0-9._~!$&'()*+,;=:@/?-]++|{_PCT})*"

_DID_RE = re.compile(
    rf"did:(?P<method>{_METHOD_NAME}):(?P<msid>{_METHOD_SPECIFIC_ID})", re.ASCII
)
_DID_URL_RE = re.compile(
    rf"(?P<did>did:(?P<method>{_METHOD_NAME}):(?P<msid>{_METHOD_SPECIFIC_ID}))"
    rf"(?P<path>{_PATH_ABEMPTY})"
    rf"(?:\?(?P<query>{_QUERY}))?"
    rf"(?:#(?P<fragment>{_QUERY}))?",
    re.ASCII,
)
_FRAGMENT_RE = re.compile(_QUERY, re.ASCII)


def is_valid_fragment(fragment: str) -> bool:
    """True if ``fragment`` (without ``#``) matches the RFC 3986 fragment rule."""
    return isinstance(fragment, str) and _FRAGMENT_RE.fullmatch(fragment) is not None


@dataclass(frozen=True, slots=True)
class DID:
    """A decentralized identifier: ``did:<method>:<method-specific-id>``."""

    method: str
    method_specific_id: str

    def __post_init__(self) -> None:
        if not isinstance(self.method, str) or not isinstance(
            self.method_specific_id, str
        ):
            raise TypeError("DID parts must be strings")
        text = f"did:{self.method}:{self.method_specific_id}"
        if _DID_RE.fullmatch(text) is None:
            raise InvalidDIDError("not a DID (DID Core §3.1)")

    @classmethod
    def parse(cls, text: str) -> Self:
        """Parse a DID string.

        Raises:
            InvalidDIDError: the text does not match the DID Core DID syntax
                (a DID URL with path, query or fragment is not a DID).
        """
        if not isinstance(text, str):
            raise InvalidDIDError("a DID must be a string")
        match = _DID_RE.fullmatch(text)
        if match is None:
            raise InvalidDIDError("not a DID (DID Core §3.1)")
        return cls._checked(match["method"], match["msid"])

    @classmethod
    def _checked(cls, method: str, method_specific_id: str) -> Self:
        """Build from parts the grammar has already matched (no second check)."""
        did = object.__new__(cls)
        object.__setattr__(did, "method", method)
        object.__setattr__(did, "method_specific_id", method_specific_id)
        return did

    def with_fragment(self, fragment: str) -> "DIDURL":
        """The DID URL ``<did>#<fragment>``.

        Raises:
            InvalidDIDURLError: the fragment has characters RFC 3986 does not allow.
        """
        if not is_valid_fragment(fragment):
            raise InvalidDIDURLError("invalid DID URL fragment")
        return DIDURL(self, fragment=fragment)

    def __str__(self) -> str:
        return f"did:{self.method}:{self.method_specific_id}"


@dataclass(frozen=True, slots=True)
class DIDURL:
    """A DID URL: a DID plus optional path, query and fragment (DID Core §3.2).

    ``path`` is the path-abempty part (``""`` when absent, else it starts with
    ``/``); ``query`` and ``fragment`` exclude their ``?``/``#`` and are ``None``
    when absent (an empty ``""`` means the delimiter was present with nothing after).
    """

    did: DID
    path: str = ""
    query: str | None = None
    fragment: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.did, DID):
            raise TypeError("DIDURL.did must be a DID")
        if _DID_URL_RE.fullmatch(self._text()) is None:
            raise InvalidDIDURLError("not a DID URL (DID Core §3.2)")

    @classmethod
    def parse(cls, text: str) -> Self:
        """Parse a DID URL (a bare DID is a DID URL too).

        Raises:
            InvalidDIDURLError: the text does not match the DID Core DID URL syntax.
        """
        if not isinstance(text, str):
            raise InvalidDIDURLError("a DID URL must be a string")
        match = _DID_URL_RE.fullmatch(text)
        if match is None:
            raise InvalidDIDURLError("not a DID URL (DID Core §3.2)")
        # The whole text matched the grammar: build without matching it again.
        url = object.__new__(cls)
        object.__setattr__(url, "did", DID._checked(match["method"], match["msid"]))
        object.__setattr__(url, "path", match["path"])
        object.__setattr__(url, "query", match["query"])
        object.__setattr__(url, "fragment", match["fragment"])
        return url

    @property
    def is_bare_did(self) -> bool:
        """True if there is no path, query or fragment."""
        return not self.path and self.query is None and self.fragment is None

    def _text(self) -> str:
        text = f"{self.did}{self.path}"
        if self.query is not None:
            text += f"?{self.query}"
        if self.fragment is not None:
            text += f"#{self.fragment}"
        return text

    def __str__(self) -> str:
        return self._text()
