"""The HTTPS fetcher did:web resolution goes through, hardened against SSRF.

``HttpxFetcher.fetch(url)`` refuses, before any connection is made:

- any scheme but ``https``, and URLs with user info;
- hosts written as IP literals in any form: dotted, decimal (``2130706433``), octal or
  hex (``0177.0.0.1``, ``0x7f.1``), short (``127.1``), bracketed IPv6 including
  IPv4-mapped (``[::ffff:127.0.0.1]``);
- names whose DNS answer holds any address that is not globally routable: loopback,
  private, link-local, shared/CGNAT, unspecified, multicast, reserved, documentation,
  and IPv6 forms embedding such an IPv4 address (mapped, 6to4, NAT64).

It then connects to the vetted address itself (so a second DNS answer cannot swap in
another host), sending the name as ``Host`` and as TLS SNI so the certificate is checked
against the name. Redirects are not followed automatically; up to ``max_redirects`` are
followed by hand, each target vetted again. The whole fetch has a time bound and the
body a size bound, enforced while streaming. The time bound covers the DNS lookup
too: the blocking system resolver runs in a daemon thread the fetch stops waiting
for at the deadline (at most ``MAX_PENDING_LOOKUPS`` such lookups at once per
process; beyond that a fetch fails at once rather than pile up threads). Results
are cached per URL for ``cache_ttl`` seconds on the instance (the lookup count is
the only module-level state).

``allow_loopback=True`` lets loopback names and literals (``localhost``, ``127.0.0.1``,
``::1``) through, for local development and tests only.
"""

import ipaddress
import re
import socket
import ssl
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urljoin, urlsplit

import httpx

from did_vault.errors import (
    ForbiddenHostError,
    ResolutionError,
    ResponseTooLargeError,
)

HostResolver = Callable[[str, int], Sequence[str]]
"""DNS lookup: ``(hostname, port) -> IP address strings``."""
Clock = Callable[[], float]
"""Monotonic seconds."""

DEFAULT_TIMEOUT = 10.0
DEFAULT_MAX_BYTES = 256 * 1024
DEFAULT_CACHE_TTL = 300.0
DEFAULT_MAX_REDIRECTS = 3
DEFAULT_MAX_CACHE_ENTRIES = 256
MAX_PENDING_LOOKUPS = 16
_lookups = threading.BoundedSemaphore(MAX_PENDING_LOOKUPS)
ACCEPT = "application/did+json, application/did+ld+json, application/json"

_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?", re.ASCII)
# WHATWG URL: a host whose last label is a number is parsed as IPv4 by browsers and
# many libraries (decimal, 0x-hex or 0-octal), so treat it as an IP literal.
_NUMERIC_LABEL = re.compile(r"(?:0[xX][0-9A-Fa-f]*|[0-9]+)", re.ASCII)
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_NAT64_LOCAL = ipaddress.IPv6Network("64:ff9b:1::/48")

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class Fetcher(Protocol):
    """Fetches the body of an HTTPS URL (did:web documents, status lists)."""

    def fetch(self, url: str) -> bytes:
        """Return the response body.

        Raises:
            ResolutionError: the resource could not be fetched (``context`` has
                ``status`` when the server answered with an HTTP error).
        """
        ...


def system_resolve(host: str, port: int) -> list[str]:
    """Resolve a host name with the operating system resolver.

    Raises:
        OSError: the name does not resolve.
    """
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    addresses: list[str] = []
    for info in infos:
        address = str(info[4][0])
        if address not in addresses:
            addresses.append(address)
    return addresses


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def is_public_address(ip: IPAddress) -> bool:
    """True if the address is globally routable unicast (not loopback, private, …)."""
    if isinstance(ip, ipaddress.IPv6Address):
        if ip in _NAT64_LOCAL:
            return False
        embedded = _embedded_ipv4(ip)
        if embedded is not None:
            return is_public_address(embedded)
    return ip.is_global and not (
        ip.is_multicast
        or ip.is_reserved
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_unspecified
        or ip.is_private
    )


def _is_loopback(ip: IPAddress) -> bool:
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped.is_loopback
    return ip.is_loopback


def _looks_like_ip_literal(host: str) -> bool:
    last = host.rstrip(".").rsplit(".", 1)[-1]
    if _NUMERIC_LABEL.fullmatch(last):
        return True
    try:
        ipaddress.ip_address(host)
    except ValueError:
        pass
    else:
        return True
    try:
        socket.inet_aton(host)
    except OSError:
        return False
    return True


@dataclass(frozen=True, slots=True)
class _Target:
    """A vetted request: the pinned URL plus the name to present."""

    pinned_url: str
    host_header: str
    sni_hostname: str | None


class HttpxFetcher:
    """SSRF-hardened HTTPS GET over httpx, with time and size bounds and a cache.

    ``verify`` is an ``ssl.SSLContext`` with the trusted roots, or ``True`` for the
    default (certifi) roots. ``transport`` replaces the network (tests use
    ``httpx.MockTransport``); ``resolve`` replaces DNS; ``clock`` replaces
    ``time.monotonic`` for the time bound and the cache.
    """

    def __init__(
        self,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        max_bytes: int = DEFAULT_MAX_BYTES,
        allow_loopback: bool = False,
        verify: ssl.SSLContext | bool = True,
        cache_ttl: float = DEFAULT_CACHE_TTL,
        max_redirects: int = DEFAULT_MAX_REDIRECTS,
        max_cache_entries: int = DEFAULT_MAX_CACHE_ENTRIES,
        transport: httpx.BaseTransport | None = None,
        resolve: HostResolver = system_resolve,
        clock: Clock = time.monotonic,
    ) -> None:
        if timeout <= 0 or max_bytes <= 0 or cache_ttl < 0 or max_redirects < 0:
            raise ValueError(
                "timeout and max_bytes must be positive; "
                "cache_ttl and max_redirects not negative"
            )
        if max_cache_entries < 1:
            raise ValueError("max_cache_entries must be at least 1")
        self._timeout = timeout
        self._max_bytes = max_bytes
        self._allow_loopback = allow_loopback
        self._verify = verify
        self._cache_ttl = cache_ttl
        self._max_redirects = max_redirects
        self._max_cache_entries = max_cache_entries
        self._transport = transport
        self._resolve = resolve
        self._clock = clock
        self._cache: dict[str, tuple[float, bytes]] = {}
        self._lock = threading.Lock()

    def fetch(self, url: str) -> bytes:
        """GET an https URL and return its body (from the cache while fresh).

        Raises:
            ForbiddenHostError: a scheme, host or address (of the URL or of a
                redirect target) that policy refuses; nothing was sent to it.
            ResponseTooLargeError: the body is larger than ``max_bytes``.
            ResolutionError: DNS failure, TLS or connection error, timeout, an HTTP
                error status (``context["status"]``), or too many redirects.
        """
        now = self._clock()
        with self._lock:
            cached = self._cache.get(url)
            if cached is not None and cached[0] > now:
                return cached[1]
        body = self._fetch_uncached(url, deadline=now + self._timeout)
        if self._cache_ttl > 0:
            with self._lock:
                self._cache.pop(url, None)
                while len(self._cache) >= self._max_cache_entries:
                    del self._cache[next(iter(self._cache))]
                self._cache[url] = (self._clock() + self._cache_ttl, body)
        return body

    def clear_cache(self) -> None:
        """Forget every cached response."""
        with self._lock:
            self._cache.clear()

    def _fetch_uncached(self, url: str, *, deadline: float) -> bytes:
        current = url
        for _ in range(self._max_redirects + 1):
            target = self._vet(current, deadline=deadline)
            remaining = deadline - self._clock()
            if remaining <= 0:
                raise ResolutionError("the fetch took too long", reason="timeout")
            location = self._get(target, remaining=remaining, deadline=deadline)
            if isinstance(location, bytes):
                return location
            current = urljoin(current, location)
        raise ResolutionError("too many redirects", max_redirects=self._max_redirects)

    def _get(
        self, target: _Target, *, remaining: float, deadline: float
    ) -> bytes | str:
        """One request: the body, or the Location of a redirect."""
        extensions = (
            {"sni_hostname": target.sni_hostname} if target.sni_hostname else {}
        )
        headers = {
            "Host": target.host_header,
            "Accept": ACCEPT,
            "Accept-Encoding": "identity",
        }
        try:
            with httpx.Client(
                transport=self._transport,
                verify=self._verify,
                follow_redirects=False,
                trust_env=False,
                timeout=httpx.Timeout(remaining),
            ) as client:
                request = client.build_request(
                    "GET", target.pinned_url, headers=headers, extensions=extensions
                )
                response = client.send(request, stream=True)
                try:
                    return self._answer(response, deadline=deadline)
                finally:
                    response.close()
        except httpx.TimeoutException as exc:
            raise ResolutionError("the fetch took too long", reason="timeout") from exc
        except httpx.HTTPError as exc:
            raise ResolutionError(
                "could not fetch the URL", reason=type(exc).__name__
            ) from exc

    def _answer(self, response: httpx.Response, *, deadline: float) -> bytes | str:
        if response.status_code in _REDIRECT_STATUSES:
            location = response.headers.get("location")
            if not isinstance(location, str) or not location:
                raise ResolutionError("a redirect without a Location")
            return location
        if response.status_code != 200:
            raise ResolutionError(
                "the server answered with an HTTP error",
                status=response.status_code,
            )
        return self._read_bounded(response, deadline=deadline)

    def _read_bounded(self, response: httpx.Response, *, deadline: float) -> bytes:
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self._max_bytes:
            raise ResponseTooLargeError(
                "the response is too large", max_bytes=self._max_bytes
            )
        body = bytearray()
        for chunk in response.iter_bytes():
            body += chunk
            if len(body) > self._max_bytes:
                raise ResponseTooLargeError(
                    "the response is too large", max_bytes=self._max_bytes
                )
            if self._clock() > deadline:
                raise ResolutionError("the fetch took too long", reason="timeout")
        return bytes(body)

    def _vet(self, url: str, *, deadline: float) -> _Target:
        """Check a URL against the policy and pin it to a vetted address.

        Raises:
            ForbiddenHostError: refused by policy.
            ResolutionError: the name does not resolve (in time).
        """
        if not isinstance(url, str) or any(c.isspace() or ord(c) < 0x20 for c in url):
            raise ForbiddenHostError("not a well-formed URL", reason="url")
        try:
            parts = urlsplit(url)
            port = parts.port or 443
        except ValueError as exc:
            raise ForbiddenHostError("not a well-formed URL", reason="url") from exc
        if parts.scheme.lower() != "https":
            raise ForbiddenHostError("only https URLs are fetched", reason="scheme")
        if "@" in parts.netloc:
            raise ForbiddenHostError(
                "URLs with user info are refused", reason="userinfo"
            )
        is_bracketed = parts.netloc.startswith("[")
        host = (parts.hostname or "").rstrip(".")
        if not host:
            raise ForbiddenHostError("the URL has no host", reason="url")
        path = parts.path or "/"
        if parts.query:
            path += f"?{parts.query}"
        named = f"[{host}]" if is_bracketed else host
        host_header = named if port == 443 else f"{named}:{port}"

        if is_bracketed or _looks_like_ip_literal(host):
            ip = self._literal(host)
            shown = f"[{ip}]" if ip.version == 6 else str(ip)
            return _Target(f"https://{shown}:{port}{path}", host_header, None)

        labels = host.split(".")
        if len(host) > 253 or not all(_LABEL.fullmatch(label) for label in labels):
            raise ForbiddenHostError(
                "the host is not a valid DNS name", reason="hostname"
            )
        answers = self._lookup(host, port, deadline=deadline)
        if not answers:
            raise ResolutionError("the host name does not resolve", host=host)
        addresses: list[IPAddress] = []
        for answer in answers:
            try:
                ip = ipaddress.ip_address(answer.split("%", 1)[0])
            except ValueError as exc:
                raise ResolutionError("the resolver returned a non-address") from exc
            if not self._is_permitted(ip):
                raise ForbiddenHostError(
                    "the host resolves to a non-public address",
                    reason="address",
                    host=host,
                    address=str(ip),
                )
            addresses.append(ip)
        pinned = addresses[0]
        shown = f"[{pinned}]" if pinned.version == 6 else str(pinned)
        return _Target(f"https://{shown}:{port}{path}", host_header, host)

    def _lookup(self, host: str, port: int, *, deadline: float) -> list[str]:
        """The resolver's answers, waited for until ``deadline`` at most.

        Raises:
            ResolutionError: no answer (``host``), the deadline passed or too many
                lookups are pending (``reason`` ``timeout``).
        """
        remaining = deadline - self._clock()
        if remaining <= 0:
            raise ResolutionError("the fetch took too long", reason="timeout")
        # The thread releases the very semaphore it was counted in (the module's
        # may be swapped meanwhile, e.g. by a test).
        lookups = _lookups
        if not lookups.acquire(blocking=False):
            raise ResolutionError(
                "too many DNS lookups are pending; try again later", reason="timeout"
            )
        done = threading.Event()
        outcome: list[list[str] | BaseException] = []

        def lookup() -> None:
            try:
                outcome.append(list(self._resolve(host, port)))
            except BaseException as exc:  # handed to the waiting fetch
                outcome.append(exc)
            finally:
                lookups.release()
                done.set()

        threading.Thread(target=lookup, name="did-web-dns", daemon=True).start()
        if not done.wait(remaining):
            raise ResolutionError(
                "the DNS lookup took too long", reason="timeout", host=host
            )
        result = outcome[0]
        if isinstance(result, OSError):
            raise ResolutionError(
                "the host name does not resolve", host=host
            ) from result
        if isinstance(result, BaseException):
            raise result
        return result

    def _literal(self, host: str) -> IPAddress:
        """An IP-literal host: refused unless it is loopback and loopback is allowed."""
        try:
            ip = ipaddress.ip_address(host)
        except ValueError:
            ip = None
        if ip is not None and self._allow_loopback and _is_loopback(ip):
            return ip
        raise ForbiddenHostError("IP address hosts are refused", reason="ip-literal")

    def _is_permitted(self, ip: IPAddress) -> bool:
        if self._allow_loopback and _is_loopback(ip):
            return True
        return is_public_address(ip)
