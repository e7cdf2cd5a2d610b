"""Prometheus metrics in the text exposition format (version 0.0.4).

A few counters and one histogram, per application instance. Labels are bounded:
method, route template, status and error code; never a DID, item id or other value
taken from a request.
"""

import threading
from collections import defaultdict
from collections.abc import Iterable

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
DURATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)

LabelSet = tuple[tuple[str, str], ...]


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _labels(labels: LabelSet) -> str:
    if not labels:
        return ""
    return "{" + ",".join(f'{name}="{_escape(value)}"' for name, value in labels) + "}"


class Metrics:
    """The registry's metrics; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._requests: dict[LabelSet, int] = defaultdict(int)
        self._errors: dict[LabelSet, int] = defaultdict(int)
        self._tokens_issued = 0
        self._duration_counts: dict[LabelSet, list[int]] = {}
        self._duration_sums: dict[LabelSet, float] = defaultdict(float)

    def observe_request(
        self, *, method: str, route: str, status: int, seconds: float
    ) -> None:
        key = (("method", method), ("route", route), ("status", str(status)))
        timing = (("method", method), ("route", route))
        with self._lock:
            self._requests[key] += 1
            counts = self._duration_counts.setdefault(
                timing, [0] * (len(DURATION_BUCKETS) + 1)
            )
            for index, bound in enumerate(DURATION_BUCKETS):
                if seconds <= bound:
                    counts[index] += 1
            counts[-1] += 1
            self._duration_sums[timing] += seconds

    def count_error(self, code: str) -> None:
        with self._lock:
            self._errors[(("code", code),)] += 1

    def count_token_issued(self) -> None:
        with self._lock:
            self._tokens_issued += 1

    def render(self) -> str:
        """The exposition text."""
        with self._lock:
            lines: list[str] = []
            lines += _family(
                "registry_http_requests_total",
                "counter",
                "HTTP requests by method, route template and status.",
                self._requests.items(),
            )
            lines += _family(
                "registry_problems_total",
                "counter",
                "Problem responses by code.",
                self._errors.items(),
            )
            lines += _family(
                "registry_auth_tokens_issued_total",
                "counter",
                "Access tokens issued.",
                [((), self._tokens_issued)],
            )
            name = "registry_http_request_duration_seconds"
            lines.append(f"# HELP {name} Request duration by method and route.")
            lines.append(f"# TYPE {name} histogram")
            for labels, counts in sorted(self._duration_counts.items()):
                for bound, count in zip(DURATION_BUCKETS, counts, strict=False):
                    bucket = (*labels, ("le", repr(bound)))
                    lines.append(f"{name}_bucket{_labels(bucket)} {count}")
                inf = (*labels, ("le", "+Inf"))
                lines.append(f"{name}_bucket{_labels(inf)} {counts[-1]}")
                lines.append(
                    f"{name}_sum{_labels(labels)} {self._duration_sums[labels]}"
                )
                lines.append(f"{name}_count{_labels(labels)} {counts[-1]}")
        return "\n".join(lines) + "\n"


def _family(
    name: str, kind: str, help_text: str, samples: Iterable[tuple[LabelSet, int]]
) -> list[str]:
    lines = [f"# HELP {name} {help_text}", f"# TYPE {name} {kind}"]
    lines += [f"{name}{_labels(labels)} {value}" for labels, value in sorted(samples)]
    return lines
