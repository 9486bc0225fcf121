"""Schemathesis against the running service's own OpenAPI document.

Every ``/v1`` and ``/v2`` operation the live service documents gets schema-valid and
schema-breaking requests (examples, boundary coverage, then random fuzzing), sent with
the tests' API key. Every answer must be no server error and must match the document:
its status, content type, headers and body schema. Without the key each guarded
operation must answer 401 (``ignored_auth``).

Ingest judges each row on its own: it stores the valid rows of a batch and names the
refused ones (200, or 422 when none is valid), and it checks rules JSON Schema cannot
state (a readable CSV or Parquet table; ``ts`` from 2000-01-01 to a day ahead). So for
``/v1/telemetry`` alone the two all-or-nothing checks, ``positive_data_acceptance`` and
``negative_data_rejection``, are left out. Every other check runs on every operation.

How many cases each operation gets is the Hypothesis profile: ``bounded`` in
``make test``, ``long`` in ``make fuzz`` (``--hypothesis-profile``).
"""

import pytest
import schemathesis
from schemathesis.checks import negative_data_rejection, positive_data_acceptance

from aetheredge.api.client import ServiceClient

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def live_api(service: ServiceClient) -> schemathesis.BaseSchema:
    return schemathesis.openapi.from_url(f"{service.base_url}/openapi.json")


schema = schemathesis.pytest.from_fixture("live_api")


@schema.parametrize()
def test_every_answer_is_documented_and_no_server_error(case, service):
    per_row = case.operation.path == "/v1/telemetry"
    excluded = [positive_data_acceptance, negative_data_rejection] if per_row else []
    case.call_and_validate(headers=service.headers, excluded_checks=excluded, timeout=30)
