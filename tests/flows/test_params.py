"""The cleanse flow's typed parameters: the flow signature and CleanseParams say the same thing."""

from __future__ import annotations

import inspect

import pytest
from pydantic import ValidationError

from datavask.flows.params import CleanseParams, parse_param_pairs, validation_problems


def test_flow_signature_matches_the_params_model() -> None:
    from datavask.flows.cleanse_flow import cleanse_flow

    signature = inspect.signature(cleanse_flow.fn)
    flow_params = {n: p.default for n, p in signature.parameters.items()}
    flow_params.pop("orchestration_note")
    fields = {
        name: (inspect.Parameter.empty if field.is_required() else field.default)
        for name, field in CleanseParams.model_fields.items()
    }
    assert flow_params == fields


def test_the_deployment_schema_refuses_what_the_model_refuses() -> None:
    from datavask.flows.cleanse_flow import cleanse_flow

    schema = cleanse_flow.parameters.model_dump()
    properties = schema["properties"]
    assert set(schema["required"]) == {"input", "out"}
    assert str(properties["format"]).count("docx") == 0
    assert "parquet" in str(properties["format"]) and "xlsx" in str(properties["format"])
    assert "minimum" in str(properties["workers"])


def test_bad_values_are_refused_with_their_field() -> None:
    with pytest.raises(ValidationError) as caught:
        CleanseParams(input="a.csv", out="o", format="docx", review_band=(0.9, 0.1), workers=-1)  # type: ignore[arg-type]
    problems = validation_problems(caught.value)
    assert {p.split(":")[0] for p in problems} == {"format", "review_band", "workers"}
    with pytest.raises(ValidationError, match="only apply with dated_runs"):
        CleanseParams(input="a.csv", out="o", keep_runs=3)
    with pytest.raises(ValidationError, match="contains a password"):
        CleanseParams(input="postgresql://u:pw@h/db?table=t", out="o")


def test_param_pairs_read_like_prefect_deployment_run() -> None:
    assert parse_param_pairs(["format=csv", "review_band=[0.7, 0.9]", "workers=2", "x=a=b"]) == {
        "format": "csv", "review_band": [0.7, 0.9], "workers": 2, "x": "a=b",
    }  # fmt: skip
    with pytest.raises(ValueError, match="KEY=VALUE"):
        parse_param_pairs(["format"])


def test_every_cleanse_option_is_a_flow_parameter() -> None:
    """A new ``datavask cleanse`` option (a CleanseOptions field) must reach served and Prefect runs
    too: add it to CleanseParams, the flow's signature and CleanseParams.cleanse_options."""
    from dataclasses import fields

    from datavask.flows.cleanse import CleanseOptions

    options = {f.name for f in fields(CleanseOptions)}
    assert options <= set(CleanseParams.model_fields)
    params = CleanseParams(input="a.csv", out="o")
    assert set(params.cleanse_options("o")) == options
