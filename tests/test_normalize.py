"""The pure normaliser: API item in, row out, input untouched."""

from __future__ import annotations

import copy
from datetime import UTC, datetime

import orjson
import pytest

from crawler.resources import (
    NUL_REPLACEMENT,
    RESOURCES,
    NormalizeError,
    arn_account_region,
    resource_by_slug,
)
from crawler.resources.base import camel_to_snake
from crawler.simulator import factory

MODELS = resource_by_slug("custom-models")
JOBS = resource_by_slug("customization-jobs")


def as_dict(resource_slug: str, item: dict[str, object]) -> dict[str, object]:
    resource = resource_by_slug(resource_slug)
    return dict(zip(resource.columns, resource.normalize(item), strict=True))


def test_row_follows_the_declared_columns_and_leaves_the_item_alone() -> None:
    item = factory.custom_model("123456789012", "eu-west-3", "m", futureField={"x": [1]})
    before = copy.deepcopy(item)
    row = as_dict("custom-models", item)
    assert item == before
    assert row["arn"] == item["modelArn"]
    assert (row["account_id"], row["region"]) == ("123456789012", "eu-west-3")
    assert row["creation_time"] == datetime(2024, 5, 1, 10, tzinfo=UTC)
    assert row["base_model_arn"] == item["baseModelArn"]
    assert orjson.loads(row["raw"]) == item  # every member, the unknown one included


def test_structures_are_json_and_timestamps_take_both_wire_forms() -> None:
    job = factory.customization_job(
        "123456789012",
        "us-east-1",
        "j",
        custom_model=None,
        status_details={"trainingDetails": {"status": "Completed"}},
    )
    job["endTime"] = 1714557600  # epoch seconds, as some AWS JSON protocols send
    row = as_dict("customization-jobs", job)
    assert orjson.loads(row["status_details"]) == {"trainingDetails": {"status": "Completed"}}
    assert row["end_time"] == datetime(2024, 5, 1, 10, tzinfo=UTC)


def test_wrongly_typed_members_are_null_in_typed_columns_but_kept_in_raw() -> None:
    item = factory.imported_model(
        "123456789012", "us-east-1", "m", instructSupported="yes", creationTime="yesterday"
    )
    row = as_dict("imported-models", item)
    assert row["instruct_supported"] is None and row["creation_time"] is None
    raw = orjson.loads(row["raw"])
    assert raw["instructSupported"] == "yes" and raw["creationTime"] == "yesterday"


def test_nul_characters_are_replaced_everywhere() -> None:
    item = factory.custom_model("123456789012", "us-east-1", "a\x00b", note={"k\x00": "v\x00"})
    row = as_dict("custom-models", item)
    assert row["model_name"] == f"a{NUL_REPLACEMENT}b"
    assert "\\u0000" not in row["raw"] and "\x00" not in row["raw"]
    assert orjson.loads(row["raw"])["note"] == {f"k{NUL_REPLACEMENT}": f"v{NUL_REPLACEMENT}"}


@pytest.mark.parametrize("arn", [None, "", 42])
def test_item_without_arn_is_refused(arn: object) -> None:
    item = factory.custom_model("123456789012", "us-east-1", "m")
    item["modelArn"] = arn
    with pytest.raises(NormalizeError, match="modelArn"):
        MODELS.normalize(item)


def test_names_and_arns() -> None:
    assert camel_to_snake("modelKmsKeyArn") == "model_kms_key_arn"
    assert camel_to_snake("targetModelARN") == "target_model_arn"
    assert arn_account_region("arn:aws-cn:bedrock:cn-north-1:123456789012:custom-model/x/y") == (
        "123456789012",
        "cn-north-1",
    )
    assert arn_account_region("not-an-arn") == ("", "")


def test_registry_is_consistent() -> None:
    slugs = [r.slug for r in RESOURCES]
    tables = [r.table for r in RESOURCES]
    assert len(set(slugs)) == len(slugs) and len(set(tables)) == len(tables)
    for resource in RESOURCES:
        assert len(set(resource.columns)) == len(resource.columns)
        for link in resource.links:
            assert link.column in resource.columns
        assert all(action.startswith("bedrock:") for action in resource.iam_actions)
    assert resource_by_slug("imported-models").iam_actions == (
        "bedrock:ListImportedModels",
        "bedrock:GetImportedModel",
    )
