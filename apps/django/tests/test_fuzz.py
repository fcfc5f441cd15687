"""No input makes a 5xx. Schemathesis generates requests from openapi.json (kept in step with the
URLconf by tests/test_openapi.py), valid and invalid ones (wrong types, out-of-range numbers, odd
strings and headers), and sends them to the real server (gunicorn.conf.py) on the real Postgres,
with the suite's token and without one.

Every answer must be below 500, show no Python traceback and come within ANSWER_BOUND_SECONDS: each
operation is one indexed query on loopback, answered in milliseconds, so a second means the input
made the server work (a catastrophic regex, an unbounded query) or wait on something it should not.
It is also the readiness check's budget (READINESS_TIMEOUT_SECONDS). Without a token, no protected
operation may succeed. The run is bounded and repeatable: MAX_EXAMPLES per operation, derandomized
(the same cases every run), no example database, and no shrinking (a failure names its input as a
curl command; shrinking would replay it against the server for minutes).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from schemathesis import GenerationMode

from .helpers import APP_DIR, Server, fuzz_call, gunicorn
from .testenv import AUTH

MAX_EXAMPLES = 50

schema = schemathesis.openapi.from_path(APP_DIR / "openapi.json")
schema.config.generation.update(
    modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE],
    max_examples=MAX_EXAMPLES,
    deterministic=True,
    database="none",
    no_shrink=True,
)


@pytest.fixture(scope="module")
def server(migrated: None) -> Iterator[Server]:
    with gunicorn(workers=2) as running:
        yield running


@schema.parametrize()
def test_with_a_token(case: schemathesis.Case, server: Server) -> None:
    fuzz_call(case, server.base, AUTH, "with a token")


@schema.parametrize()
def test_without_a_token(case: schemathesis.Case, server: Server) -> None:
    response = fuzz_call(case, server.base, {}, "without a token")
    if case.operation.definition.raw.get("security", schema.raw_schema["security"]):
        assert not 200 <= response.status_code < 300, f"{case.operation.label} succeeded without a token"
