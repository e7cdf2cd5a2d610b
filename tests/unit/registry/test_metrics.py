"""Prometheus text exposition of the registry's metrics."""

from registry.metrics import Metrics


def test_renders_counters_and_histogram():
    metrics = Metrics()
    metrics.observe_request(method="GET", route="/healthz", status=200, seconds=0.003)
    metrics.observe_request(method="GET", route="/healthz", status=200, seconds=0.2)
    metrics.count_error("auth.required")
    metrics.count_token_issued()

    text = metrics.render()

    assert (
        'registry_http_requests_total{method="GET",route="/healthz",status="200"} 2'
        in text
    )
    assert 'registry_problems_total{code="auth.required"} 1' in text
    assert "registry_auth_tokens_issued_total 1" in text
    bucket = (
        'registry_http_request_duration_seconds_bucket{method="GET",route="/healthz"'
    )
    assert f'{bucket},le="0.005"}} 1' in text
    assert f'{bucket},le="+Inf"}} 2' in text
    assert text.endswith("\n")


def test_label_values_are_escaped():
    metrics = Metrics()
    metrics.count_error('a"b\\c\nd')
    assert 'code="a\\"b\\\\c\\nd"' in metrics.render()
