"""The /v1 request contracts refuse every malformed row with the field and the reason."""

import json
import math

import pytest
from pydantic import ValidationError

from aetheredge.api.v1 import MAX_ROWS, scoring_request, validation_errors
from aetheredge.kinds.anomaly import ANOMALY_NUMERIC
from tests.support.rows import GOOD_METRICS, GOOD_USAGE

AnomalyRequest = scoring_request("anomaly")
CostRequest = scoring_request("cost")


def errors(model, rows):
    with pytest.raises(ValidationError) as caught:
        model.model_validate({"rows": rows})
    return [(tuple(e["loc"]), e["type"]) for e in caught.value.errors()]


def test_valid_rows_pass_and_ints_count_as_floats():
    request = AnomalyRequest.model_validate({"rows": [GOOD_METRICS | {"entity_id": "web-1"}]})
    assert request.rows[0].request_rate == 250.0
    assert CostRequest.model_validate({"rows": [GOOD_USAGE]}).rows[0].region == "eu-west-1"


@pytest.mark.parametrize(
    ("change", "loc", "kind"),
    [
        ({"cpu_util": None}, ("rows", 0, "cpu_util"), "float_type"),
        ({"cpu_util": "0.4"}, ("rows", 0, "cpu_util"), "float_type"),
        ({"cpu_util": True}, ("rows", 0, "cpu_util"), "float_type"),
        ({"cpu_util": math.nan}, ("rows", 0, "cpu_util"), "finite_number"),
        ({"latency_p99_ms": math.inf}, ("rows", 0, "latency_p99_ms"), "finite_number"),
        ({"cpu_util": 1.5}, ("rows", 0, "cpu_util"), "less_than_equal"),
        ({"error_rate": -0.1}, ("rows", 0, "error_rate"), "greater_than_equal"),
        ({"gpu": 1.0}, ("rows", 0, "gpu"), "extra_forbidden"),
        ({"entity_id": 7}, ("rows", 0, "entity_id"), "string_type"),
    ],
)
def test_bad_anomaly_field_is_named_with_reason(change, loc, kind):
    assert (loc, kind) in errors(AnomalyRequest, [GOOD_METRICS | change])


def test_missing_field_is_named():
    row = {k: v for k, v in GOOD_METRICS.items() if k != "mem_util"}
    assert (("rows", 0, "mem_util"), "missing") in errors(AnomalyRequest, [row])


def test_unknown_category_is_refused():
    found = errors(CostRequest, [GOOD_USAGE | {"pricing_category": "Haggled"}])
    assert (("rows", 0, "pricing_category"), "literal_error") in found


@pytest.mark.parametrize(
    ("change", "loc", "kind"),
    [
        ({"region": 7}, ("rows", 0, "region"), "string_type"),
        ({"region": "x" * 257}, ("rows", 0, "region"), "string_too_long"),
        ({"commitment_status": "Unused"}, ("rows", 0, "commitment_status"), "literal_error"),
        ({"provider": ["AWS"]}, ("rows", 0, "provider"), "string_type"),
    ],
)
def test_free_text_focus_values_are_checked(change, loc, kind):
    assert (loc, kind) in errors(CostRequest, [GOOD_USAGE | change])


def test_any_region_and_provider_is_read_and_null_means_none():
    rows = [
        GOOD_USAGE | {"region": "mars-north-1", "provider": "Hetzner"},
        GOOD_USAGE | {"region": None, "commitment_status": "Used"},
    ]
    parsed = CostRequest.model_validate({"rows": rows}).rows
    assert [(r.region, r.provider, r.commitment_status) for r in parsed] == [
        ("mars-north-1", "Hetzner", None),
        (None, "AWS", "Used"),
    ]
    forgot = {k: v for k, v in GOOD_USAGE.items() if k != "provider"}
    assert (("rows", 0, "provider"), "missing") in errors(CostRequest, [forgot])


@pytest.mark.parametrize(
    ("rows", "kind"), [([], "too_short"), ([GOOD_METRICS] * (MAX_ROWS + 1), "too_long")]
)
def test_batch_size_bounds(rows, kind):
    assert (("rows",), kind) in errors(AnomalyRequest, rows)


def test_every_schema_range_is_enforced():
    for spec in ANOMALY_NUMERIC:
        assert errors(AnomalyRequest, [GOOD_METRICS | {spec.name: spec.high * 2 + 1}])


def test_error_details_are_json_safe_and_small():
    with pytest.raises(ValidationError) as caught:
        AnomalyRequest.model_validate({"rows": [GOOD_METRICS | {"cpu_util": math.nan}]})
    details = validation_errors(caught.value.errors())
    assert details == [
        {
            "loc": ["rows", 0, "cpu_util"],
            "msg": "Input should be a finite number",
            "type": "finite_number",
            "input": "nan",
        }
    ]
    json.dumps(details, allow_nan=False)
    with pytest.raises(ValidationError) as caught:
        AnomalyRequest.model_validate({"rows": [GOOD_METRICS] * (MAX_ROWS + 1)})
    assert "input" not in validation_errors(caught.value.errors())[0]
