"""The retry policy and header parsing, as units."""

from __future__ import annotations

import email.utils

import pytest

from aiopinterest import Failure, RetryPolicy

# Unit tests of the internal header parsers: every odd form of the headers, more than loopback tests can stage.
from aiopinterest._transport.headers import Policy, header_number, quota_policies, requested_wait, retry_after
from aiopinterest.errors import ConnectError, RequestTimeoutError, TransportError

NOW = 1_700_000_000.0


def failure(method: str = "GET", *, attempt: int = 1, waited: float = 0.0, **kwargs: object) -> Failure:
    return Failure(method=method, attempt=attempt, waited=waited, now=NOW, **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("method", "status", "error", "retried"),
    [
        ("GET", 500, None, True),
        ("DELETE", 503, None, True),
        ("GET", 501, None, False),
        ("GET", 404, None, False),
        ("POST", 500, None, False),
        ("PATCH", 502, None, False),
        ("POST", 429, None, True),
        ("POST", None, ConnectError("refused"), True),
        ("POST", None, RequestTimeoutError("read"), False),
        ("POST", None, TransportError("reset"), False),
        ("GET", None, TransportError("reset"), True),
        ("GET", None, RequestTimeoutError("read"), True),
    ],
)
def test_what_is_retried(
    method: str, status: int | None, error: TransportError | None, retried: bool
) -> None:
    policy = RetryPolicy(jitter=lambda: 0.5)
    assert (policy.next_delay(failure(method, status=status, error=error)) is not None) is retried


def test_replay_safe_and_opt_in_allow_post_retries() -> None:
    assert RetryPolicy().next_delay(failure("POST", status=500, replay_safe=True)) is not None
    assert RetryPolicy(retry_non_idempotent=True).next_delay(failure("POST", status=500)) is not None


def test_full_jitter_backoff_is_bounded_by_the_cap() -> None:
    policy = RetryPolicy(backoff_base=1.0, backoff_cap=5.0, jitter=lambda: 0.999999)
    assert [round(policy.backoff(n), 3) for n in range(1, 6)] == [1.0, 2.0, 4.0, 5.0, 5.0]
    assert RetryPolicy(jitter=lambda: 0.0).backoff(3) == 0.0


def test_attempts_and_total_wait_are_bounded() -> None:
    policy = RetryPolicy(max_attempts=3, max_wait=10, jitter=lambda: 0.5)
    assert policy.next_delay(failure(attempt=2, status=500)) is not None
    assert policy.next_delay(failure(attempt=3, status=500)) is None
    assert policy.next_delay(failure(status=429, headers={"Retry-After": "11"})) is None
    assert policy.next_delay(failure(status=429, waited=8, headers={"Retry-After": "3"})) is None
    assert policy.next_delay(failure(status=429, waited=7, headers={"Retry-After": "3"})) == 3


def test_policy_validates_its_fields() -> None:
    with pytest.raises(ValueError, match="max_attempts"):
        RetryPolicy(max_attempts=0)
    with pytest.raises(ValueError, match="negative"):
        RetryPolicy(backoff_base=-1)


def test_a_subclass_can_replace_the_rules() -> None:
    class Fixed(RetryPolicy):
        def next_delay(self, failure: Failure) -> float | None:
            return 1.0 if failure.attempt < 2 else None

    assert Fixed().next_delay(failure("POST", status=500)) == 1.0


def test_retry_after_forms() -> None:
    assert retry_after({"Retry-After": " 5 "}, NOW) == 5
    assert retry_after({"Retry-After": email.utils.formatdate(NOW + 20, usegmt=True)}, NOW) == pytest.approx(
        20
    )
    assert retry_after({"Retry-After": email.utils.formatdate(NOW - 20, usegmt=True)}, NOW) == 0
    assert retry_after({"Retry-After": "soon"}, NOW) is None
    assert retry_after({}, NOW) is None


def test_reset_is_only_a_wait_for_429() -> None:
    assert requested_wait(429, {"X-RateLimit-Reset": str(int(NOW) + 30)}, NOW) == 30
    assert requested_wait(503, {"X-RateLimit-Reset": "30"}, NOW) is None


def test_quota_policies_reads_plain_and_draft_forms() -> None:
    assert quota_policies("100") == (Policy(100, None), ())
    binding, policies = quota_policies("100, 100;w=1, 1000;w=60")
    assert binding == Policy(100, 1.0) and policies == (Policy(100, 1.0), Policy(1000, 60.0))
    # The per-minute policy binds: Remaining and Reset speak of it.
    assert quota_policies("1000, 100;w=1, 1000;w=60")[0] == Policy(1000, 60.0)
    assert quota_policies("50;w=10") == (Policy(50, 10.0), (Policy(50, 10.0),))
    assert quota_policies("soon") == (None, ())


@pytest.mark.parametrize(
    ("value", "number"),
    [
        ("100", 100.0),
        (" 7", 7.0),
        ("4.5", 4.5),
        ("100, 100;w=60", 100.0),
        ("soon", None),
        ("\u00b2", None),  # a digit to str.isdigit(), not a number
        (None, None),
    ],
)
def test_header_numbers_in_every_form(value: str | None, number: float | None) -> None:
    assert header_number(value) == number
