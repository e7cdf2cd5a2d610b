"""HttpxFetcher: SSRF policy, pinning, redirects, bounds and cache (no network)."""

import ipaddress
import threading

import httpx
import pytest

from did_vault.dids import _fetch
from did_vault.dids._fetch import HttpxFetcher, is_public_address
from did_vault.errors import (
    ForbiddenHostError,
    ResolutionError,
    ResponseTooLargeError,
)

PUBLIC_IP = "93.184.216.34"
PUBLIC_IP_2 = "93.184.216.35"
BODY = b'{"id": "did:web:example.com"}'


class FakeClock:
    """Monotonic seconds that move only when told to (or by ``step`` per call)."""

    def __init__(self, step: float = 0.0) -> None:
        self.now = 1000.0
        self.step = step

    def __call__(self) -> float:
        self.now += self.step
        return self.now


class FakeDNS:
    def __init__(self, answers: dict[str, list[str]] | None = None) -> None:
        self.answers = answers or {"example.com": [PUBLIC_IP]}
        self.queries: list[tuple[str, int]] = []

    def __call__(self, host: str, port: int) -> list[str]:
        self.queries.append((host, port))
        if host not in self.answers:
            raise OSError("name does not resolve")
        return self.answers[host]


class Server:
    """An httpx.MockTransport handler that records requests."""

    def __init__(self, respond=None) -> None:
        self.requests: list[httpx.Request] = []
        self.respond = respond or (lambda request: httpx.Response(200, content=BODY))

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.respond(request)


def make_fetcher(server=None, dns=None, **options) -> HttpxFetcher:
    return HttpxFetcher(
        transport=httpx.MockTransport(server or Server()),
        resolve=dns or FakeDNS(),
        **options,
    )


def test_fetch_returns_the_body():
    assert make_fetcher().fetch("https://example.com/.well-known/did.json") == BODY


def test_fetch_connects_to_the_vetted_address_with_the_name_as_host_and_sni():
    server = Server()

    make_fetcher(server).fetch("https://example.com:8443/user/alice/did.json?x=1")

    (request,) = server.requests
    assert request.url.host == PUBLIC_IP
    assert request.url.port == 8443
    assert request.url.raw_path == b"/user/alice/did.json?x=1"
    assert request.headers["host"] == "example.com:8443"
    assert request.extensions["sni_hostname"] == "example.com"


def test_fetch_pins_an_ipv6_answer_in_brackets():
    server = Server()
    dns = FakeDNS({"example.com": ["2606:2800:220:1:248:1893:25c8:1946"]})

    make_fetcher(server, dns).fetch("https://example.com/did.json")

    assert server.requests[0].url.host == "2606:2800:220:1:248:1893:25c8:1946"
    assert server.requests[0].headers["host"] == "example.com"


@pytest.mark.parametrize(
    "url",
    [
        pytest.param("http://example.com/did.json", id="http"),
        pytest.param("ftp://example.com/did.json", id="ftp"),
        pytest.param("file:///etc/passwd", id="file"),
        pytest.param("gopher://example.com/", id="gopher"),
        pytest.param("//example.com/did.json", id="scheme-relative"),
    ],
)
def test_fetch_refuses_schemes_other_than_https(url):
    server, dns = Server(), FakeDNS()

    with pytest.raises(ForbiddenHostError) as exc_info:
        make_fetcher(server, dns).fetch(url)

    assert exc_info.value.code == "did.host-forbidden"
    assert server.requests == []
    assert dns.queries == []


IP_LITERAL_URLS = {
    "dotted-loopback": "https://127.0.0.1/did.json",
    "dotted-loopback-trailing-dot": "https://127.0.0.1./did.json",
    "decimal": "https://2130706433/did.json",
    "octal": "https://0177.0.0.1/did.json",
    "hex-dotted": "https://0x7f.0.0.1/did.json",
    "hex-whole": "https://0x7f000001/did.json",
    "short-form": "https://127.1/did.json",
    "zero": "https://0/did.json",
    "metadata-service": "https://169.254.169.254/latest/meta-data/",
    "private": "https://10.0.0.1/did.json",
    "public-ipv4": f"https://{PUBLIC_IP}/did.json",
    "ipv6-loopback": "https://[::1]/did.json",
    "ipv6-unspecified": "https://[::]/did.json",
    "ipv4-mapped-ipv6": "https://[::ffff:127.0.0.1]/did.json",
    "ipv4-mapped-ipv6-hex": "https://[::ffff:7f00:1]/did.json",
    "ipv6-link-local-zone": "https://[fe80::1%25eth0]/did.json",
    "public-ipv6": "https://[2606:4700:4700::1111]/did.json",
    "with-port": "https://127.0.0.1:8443/did.json",
}


@pytest.mark.parametrize(
    "url", [pytest.param(url, id=name) for name, url in IP_LITERAL_URLS.items()]
)
def test_fetch_refuses_ip_literal_hosts_before_any_lookup_or_connection(url):
    server, dns = Server(), FakeDNS()

    with pytest.raises(ForbiddenHostError) as exc_info:
        make_fetcher(server, dns).fetch(url)

    assert exc_info.value.code == "did.host-forbidden"
    assert server.requests == []
    assert dns.queries == []


NON_PUBLIC_ANSWERS = {
    "loopback": "127.0.0.1",
    "loopback-other": "127.53.0.1",
    "private-10": "10.1.2.3",
    "private-172": "172.16.5.4",
    "private-192": "192.168.0.1",
    "link-local": "169.254.169.254",
    "cgnat": "100.64.0.1",
    "unspecified": "0.0.0.0",
    "this-network": "0.1.2.3",
    "multicast": "224.0.0.1",
    "reserved": "240.0.0.1",
    "broadcast": "255.255.255.255",
    "documentation": "192.0.2.10",
    "benchmarking": "198.18.0.1",
    "ipv6-loopback": "::1",
    "ipv6-unspecified": "::",
    "ipv6-link-local": "fe80::1",
    "ipv6-link-local-scoped": "fe80::1%eth0",
    "ipv6-unique-local": "fd12:3456::1",
    "ipv6-multicast": "ff02::1",
    "ipv6-documentation": "2001:db8::1",
    "ipv4-mapped-private": "::ffff:10.0.0.1",
    "ipv4-mapped-loopback": "::ffff:127.0.0.1",
    "ipv4-compatible-loopback": "::127.0.0.1",
    "nat64-private": "64:ff9b::a00:1",
    "nat64-local-use": "64:ff9b:1::1",
    "6to4-loopback": "2002:7f00:1::1",
    "teredo": "2001:0:4136:e378:8000:63bf:3fff:fdd2",
}


@pytest.mark.parametrize(
    "address",
    [pytest.param(address, id=name) for name, address in NON_PUBLIC_ANSWERS.items()],
)
def test_fetch_refuses_a_name_resolving_to_a_non_public_address(address):
    server = Server()
    dns = FakeDNS({"evil.example": [address]})

    with pytest.raises(ForbiddenHostError) as exc_info:
        make_fetcher(server, dns).fetch("https://evil.example/did.json")

    assert exc_info.value.code == "did.host-forbidden"
    assert server.requests == []


def test_fetch_refuses_a_name_when_any_of_its_addresses_is_not_public():
    server = Server()
    dns = FakeDNS({"mixed.example": [PUBLIC_IP, "10.0.0.1"]})

    with pytest.raises(ForbiddenHostError) as exc_info:
        make_fetcher(server, dns).fetch("https://mixed.example/did.json")

    assert exc_info.value.code == "did.host-forbidden"
    assert server.requests == []


@pytest.mark.parametrize(
    "url",
    [
        pytest.param("https://user@example.com/did.json", id="user"),
        pytest.param("https://user:pw@example.com/did.json", id="user-password"),
        pytest.param("https://example.com@127.0.0.1/did.json", id="confusing-at"),
        pytest.param("https://exa_mple.com/did.json", id="underscore"),
        pytest.param("https://%65xample.com/did.json", id="percent-encoded-host"),
        pytest.param("https://exa mple.com/did.json", id="space"),
        pytest.param("https://example.com\\@evil/did.json", id="backslash"),
        pytest.param("https://-example.com/did.json", id="leading-hyphen"),
        pytest.param("https:///did.json", id="no-host"),
        pytest.param("https://example.com:99999/did.json", id="port-out-of-range"),
        pytest.param("https://example.com\n.evil/did.json", id="newline"),
        pytest.param("https://ëxample.com/did.json", id="non-ascii"),
    ],
)
def test_fetch_refuses_malformed_or_deceptive_urls(url):
    server, dns = Server(), FakeDNS()

    with pytest.raises(ForbiddenHostError) as exc_info:
        make_fetcher(server, dns).fetch(url)

    assert exc_info.value.code == "did.host-forbidden"
    assert server.requests == []
    assert dns.queries == []


def test_fetch_reports_an_unresolvable_name_as_resolution_failed():
    with pytest.raises(ResolutionError) as exc_info:
        make_fetcher().fetch("https://nowhere.example/did.json")

    assert exc_info.value.code == "did.resolution-failed"


def test_fetch_reports_an_empty_dns_answer_as_resolution_failed():
    dns = FakeDNS({"empty.example": []})

    with pytest.raises(ResolutionError) as exc_info:
        make_fetcher(dns=dns).fetch("https://empty.example/did.json")

    assert exc_info.value.code == "did.resolution-failed"


def _redirect(location: str, status: int = 302):
    def respond(request: httpx.Request) -> httpx.Response:
        if request.headers["host"] == "example.com":
            return httpx.Response(status, headers={"Location": location})
        return httpx.Response(200, content=BODY)

    return respond


@pytest.mark.parametrize(
    "location",
    [
        pytest.param("https://127.0.0.1/did.json", id="ip-literal"),
        pytest.param("https://[::1]/did.json", id="ipv6-literal"),
        pytest.param("https://2130706433/did.json", id="decimal-literal"),
        pytest.param("https://internal.example/did.json", id="name-to-private"),
        pytest.param("http://example.com/did.json", id="downgrade-to-http"),
        pytest.param("file:///etc/passwd", id="file-scheme"),
        pytest.param("//169.254.169.254/latest", id="scheme-relative-metadata"),
    ],
)
def test_fetch_refuses_a_redirect_to_a_forbidden_target(location):
    server = Server(_redirect(location))
    dns = FakeDNS({"example.com": [PUBLIC_IP], "internal.example": ["10.0.0.7"]})

    with pytest.raises(ForbiddenHostError) as exc_info:
        make_fetcher(server, dns).fetch("https://example.com/did.json")

    assert exc_info.value.code == "did.host-forbidden"
    assert len(server.requests) == 1


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_fetch_follows_a_redirect_to_a_public_host_after_vetting_it(status):
    server = Server(_redirect("https://cdn.example/doc.json", status))
    dns = FakeDNS({"example.com": [PUBLIC_IP], "cdn.example": [PUBLIC_IP_2]})

    body = make_fetcher(server, dns).fetch("https://example.com/did.json")

    assert body == BODY
    second = server.requests[1]
    assert second.url.host == PUBLIC_IP_2
    assert second.headers["host"] == "cdn.example"
    assert second.extensions["sni_hostname"] == "cdn.example"


def test_fetch_resolves_a_relative_redirect_against_the_named_url():
    def respond(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/old/did.json":
            return httpx.Response(301, headers={"Location": "../new/did.json"})
        return httpx.Response(200, content=BODY)

    server = Server(respond)

    assert make_fetcher(server).fetch("https://example.com/old/did.json") == BODY
    assert server.requests[1].url.path == "/new/did.json"
    assert server.requests[1].headers["host"] == "example.com"


def test_fetch_gives_up_after_max_redirects():
    server = Server(lambda request: httpx.Response(302, headers={"Location": "/loop"}))

    with pytest.raises(ResolutionError) as exc_info:
        make_fetcher(server, max_redirects=2).fetch("https://example.com/did.json")

    assert exc_info.value.code == "did.resolution-failed"
    assert len(server.requests) == 3


def test_fetch_treats_a_redirect_without_location_as_resolution_failed():
    server = Server(lambda request: httpx.Response(302))

    with pytest.raises(ResolutionError) as exc_info:
        make_fetcher(server).fetch("https://example.com/did.json")

    assert exc_info.value.code == "did.resolution-failed"


@pytest.mark.parametrize("status", [404, 410, 500, 204, 403])
def test_fetch_reports_a_non_200_status_in_the_error_context(status):
    server = Server(lambda request: httpx.Response(status))

    with pytest.raises(ResolutionError) as exc_info:
        make_fetcher(server).fetch("https://example.com/did.json")

    assert exc_info.value.code == "did.resolution-failed"
    assert exc_info.value.context["status"] == status


def test_fetch_refuses_a_declared_content_length_over_the_bound():
    server = Server(
        lambda request: httpx.Response(
            200, headers={"Content-Length": "2000"}, content=b"x" * 2000
        )
    )

    with pytest.raises(ResponseTooLargeError) as exc_info:
        make_fetcher(server, max_bytes=1000).fetch("https://example.com/did.json")

    assert exc_info.value.code == "did.response-too-large"


def test_fetch_stops_a_streamed_body_once_it_passes_the_bound():
    pulled: list[int] = []

    def chunks():
        for index in range(1000):
            pulled.append(index)
            yield b"x" * 100

    server = Server(lambda request: httpx.Response(200, content=chunks()))

    with pytest.raises(ResponseTooLargeError) as exc_info:
        make_fetcher(server, max_bytes=1000).fetch("https://example.com/did.json")

    assert exc_info.value.code == "did.response-too-large"
    assert len(pulled) <= 12


def test_fetch_accepts_a_body_exactly_at_the_bound():
    server = Server(lambda request: httpx.Response(200, content=b"x" * 1000))

    assert (
        len(make_fetcher(server, max_bytes=1000).fetch("https://example.com/")) == 1000
    )


def test_fetch_enforces_the_total_time_bound_while_streaming():
    def slow_chunks():
        yield from (b"x" for _ in range(100))

    server = Server(lambda request: httpx.Response(200, content=slow_chunks()))
    clock = FakeClock(step=1.0)

    with pytest.raises(ResolutionError) as exc_info:
        make_fetcher(server, timeout=5.0, clock=clock).fetch("https://example.com/")

    assert exc_info.value.code == "did.resolution-failed"
    assert exc_info.value.context["reason"] == "timeout"


def test_fetch_counts_redirect_hops_against_one_time_bound():
    server = Server(lambda request: httpx.Response(302, headers={"Location": "/next"}))
    clock = FakeClock(step=2.0)

    with pytest.raises(ResolutionError) as exc_info:
        make_fetcher(server, timeout=3.0, max_redirects=10, clock=clock).fetch(
            "https://example.com/"
        )

    assert exc_info.value.context["reason"] == "timeout"
    assert len(server.requests) < 10


def test_fetch_wraps_a_transport_timeout_as_resolution_failed():
    def respond(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    with pytest.raises(ResolutionError) as exc_info:
        make_fetcher(Server(respond)).fetch("https://example.com/did.json")

    assert exc_info.value.code == "did.resolution-failed"
    assert exc_info.value.context["reason"] == "timeout"


def test_fetch_wraps_a_connection_error_as_resolution_failed():
    def respond(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    with pytest.raises(ResolutionError) as exc_info:
        make_fetcher(Server(respond)).fetch("https://example.com/did.json")

    assert exc_info.value.code == "did.resolution-failed"


def test_fetch_serves_a_repeat_from_the_cache_until_the_ttl_passes():
    server, clock = Server(), FakeClock()
    fetcher = make_fetcher(server, clock=clock, cache_ttl=60.0)
    url = "https://example.com/did.json"

    fetcher.fetch(url)
    clock.now += 59
    fetcher.fetch(url)
    assert len(server.requests) == 1

    clock.now += 2
    fetcher.fetch(url)
    assert len(server.requests) == 2


def test_fetch_caches_per_url():
    server = Server()
    fetcher = make_fetcher(server, clock=FakeClock())

    fetcher.fetch("https://example.com/a/did.json")
    fetcher.fetch("https://example.com/b/did.json")

    assert len(server.requests) == 2


def test_fetch_does_not_cache_failures():
    statuses = iter([500, 200])
    server = Server(lambda request: httpx.Response(next(statuses), content=BODY))
    fetcher = make_fetcher(server, clock=FakeClock())

    with pytest.raises(ResolutionError):
        fetcher.fetch("https://example.com/did.json")

    assert fetcher.fetch("https://example.com/did.json") == BODY


def test_fetch_cache_belongs_to_the_instance():
    server = Server()

    make_fetcher(server).fetch("https://example.com/did.json")
    make_fetcher(server).fetch("https://example.com/did.json")

    assert len(server.requests) == 2


def test_cache_ttl_zero_disables_the_cache():
    server = Server()
    fetcher = make_fetcher(server, cache_ttl=0)

    fetcher.fetch("https://example.com/did.json")
    fetcher.fetch("https://example.com/did.json")

    assert len(server.requests) == 2


def test_clear_cache_forgets_responses():
    server = Server()
    fetcher = make_fetcher(server, clock=FakeClock())

    fetcher.fetch("https://example.com/did.json")
    fetcher.clear_cache()
    fetcher.fetch("https://example.com/did.json")

    assert len(server.requests) == 2


def test_cache_evicts_the_oldest_entry_when_full():
    server = Server()
    fetcher = make_fetcher(server, clock=FakeClock(), max_cache_entries=2)

    for path in ("a", "b", "c", "a"):
        fetcher.fetch(f"https://example.com/{path}")

    assert [request.url.path for request in server.requests] == ["/a", "/b", "/c", "/a"]


@pytest.mark.parametrize(
    ("url", "answers"),
    [
        pytest.param("https://localhost:8443/did.json", ["127.0.0.1"], id="localhost"),
        pytest.param("https://localhost/did.json", ["::1"], id="localhost-ipv6"),
        pytest.param("https://127.0.0.1:8443/did.json", [], id="ipv4-literal"),
        pytest.param("https://[::1]:8443/did.json", [], id="ipv6-literal"),
    ],
)
def test_allow_loopback_lets_loopback_through(url, answers):
    server = Server()
    dns = FakeDNS({"localhost": answers})

    body = make_fetcher(server, dns, allow_loopback=True).fetch(url)

    assert body == BODY
    assert len(server.requests) == 1


def test_allow_loopback_sends_no_sni_for_an_ip_literal():
    server = Server()

    make_fetcher(server, allow_loopback=True).fetch("https://[::1]:8443/did.json")

    assert "sni_hostname" not in server.requests[0].extensions
    assert server.requests[0].headers["host"] == "[::1]:8443"


@pytest.mark.parametrize(
    ("url", "answers"),
    [
        pytest.param("https://internal.example/", ["10.0.0.1"], id="private-name"),
        pytest.param("https://internal.example/", ["169.254.169.254"], id="metadata"),
        pytest.param("https://10.0.0.1/", [], id="private-literal"),
        pytest.param("https://2130706433/", [], id="decimal-loopback-literal"),
        pytest.param("https://[::ffff:10.0.0.1]/", [], id="mapped-private-literal"),
    ],
)
def test_allow_loopback_still_refuses_everything_else(url, answers):
    server = Server()
    dns = FakeDNS({"internal.example": answers})

    with pytest.raises(ForbiddenHostError) as exc_info:
        make_fetcher(server, dns, allow_loopback=True).fetch(url)

    assert exc_info.value.code == "did.host-forbidden"
    assert server.requests == []


@pytest.mark.parametrize(
    "options",
    [
        {"timeout": 0},
        {"max_bytes": 0},
        {"cache_ttl": -1},
        {"max_redirects": -1},
        {"max_cache_entries": 0},
    ],
)
def test_constructor_rejects_nonsense_bounds(options):
    with pytest.raises(ValueError, match="must"):
        HttpxFetcher(**options)


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        ("93.184.216.34", True),
        ("2606:4700:4700::1111", True),
        ("2002:5db8:d822::1", True),
        ("::ffff:93.184.216.34", True),
        ("10.0.0.1", False),
        ("::ffff:10.0.0.1", False),
    ],
)
def test_is_public_address_classifies_addresses(address, expected):
    assert is_public_address(ipaddress.ip_address(address)) is expected


class HangingDNS:
    """A resolver that blocks until released (a DNS server that never answers)."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.started = threading.Event()

    def __call__(self, host: str, port: int) -> list[str]:
        self.started.set()
        self.release.wait(30)
        return [PUBLIC_IP]


def test_a_hanging_dns_lookup_ends_at_the_fetch_deadline():
    dns = HangingDNS()
    server = Server()
    fetcher = make_fetcher(server, dns, timeout=0.2)
    try:
        with pytest.raises(ResolutionError) as raised:
            fetcher.fetch("https://example.com/did.json")
    finally:
        dns.release.set()
    assert dns.started.is_set()
    assert raised.value.context["reason"] == "timeout"
    assert server.requests == []


def test_no_lookup_starts_once_the_deadline_has_passed():
    dns = FakeDNS()
    # every reading of the clock moves it past the whole time bound
    fetcher = make_fetcher(dns=dns, timeout=1.0, clock=FakeClock(step=5.0))
    with pytest.raises(ResolutionError) as raised:
        fetcher.fetch("https://example.com/did.json")
    assert raised.value.context["reason"] == "timeout"
    assert dns.queries == []


def test_pending_lookups_are_bounded(monkeypatch):
    monkeypatch.setattr(_fetch, "_lookups", threading.BoundedSemaphore(1))
    dns = HangingDNS()
    first = make_fetcher(dns=dns, timeout=30.0)
    failures: list[BaseException] = []

    def slow_fetch() -> None:
        try:
            first.fetch("https://example.com/did.json")
        except BaseException as exc:
            failures.append(exc)

    worker = threading.Thread(target=slow_fetch)
    worker.start()
    try:
        assert dns.started.wait(10)
        with pytest.raises(ResolutionError) as raised:
            make_fetcher(timeout=30.0).fetch("https://example.com/did.json")
        assert raised.value.context["reason"] == "timeout"
        assert "pending" in str(raised.value)
    finally:
        dns.release.set()
        worker.join(10)
    assert failures == []


def test_a_resolver_error_that_is_not_os_error_propagates():
    def broken(host: str, port: int) -> list[str]:
        raise RuntimeError("resolver bug")

    with pytest.raises(RuntimeError, match="resolver bug"):
        make_fetcher(dns=broken).fetch("https://example.com/did.json")
