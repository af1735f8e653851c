"""Property-based: requests generated from the service's own OpenAPI document (valid and
invalid ones), sent to the real service, about 200 in all, never get a 5xx answer, and get
only statuses that the document declares for their operation (so it tells clients the truth,
e.g. 400 rather than FastAPI's 422).  ``POST /callbacks/{token}`` is in the document, so it is
exercised too: made-up tokens must be 404s."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error, status_code_conformance
from schemathesis.generation import GenerationMode
from service_support import TOKEN, serve, start_sims
from simulators import stop_all

EXAMPLES_PER_OPERATION = 7
"""29 operations: ~200 requests."""
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture(scope="module")
def api_schema(tmp_path_factory: pytest.TempPathFactory) -> Iterator[schemathesis.BaseSchema]:
    sims = start_sims()
    running = serve(Path(tmp_path_factory.mktemp("schemathesis")) / "om.db", sims)
    try:
        yield schemathesis.openapi.from_url(f"{running.url}/openapi.json")
    finally:
        running.close()
        stop_all(sims.all())


def test_no_generated_request_gets_a_server_error(api_schema: schemathesis.BaseSchema) -> None:
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 29
    assert any(op.path == "/callbacks/{token}" for op in operations)
    for operation in operations:
        cases = st.one_of(
            operation.as_strategy(GenerationMode.POSITIVE),
            operation.as_strategy(GenerationMode.NEGATIVE),
        )

        @given(case=cases)
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def no_5xx(case: schemathesis.Case) -> None:
            case.call_and_validate(
                headers=AUTH, checks=[not_a_server_error, status_code_conformance], timeout=30
            )

        no_5xx()
