"""Builders for realistic Bedrock items, exactly as the API returns them.

Pure and deterministic: identifiers are derived from the inputs, so building the same asset twice
gives the same ARN, and a copy job's ``targetModelArn`` equals the ARN of the custom model built
for the same account, region, base model and name. ``**extra`` members are merged last, to
override a member or to inject ones the SDK does not know.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from typing import Any

__all__ = [
    "DEFAULT_BASE_MODEL_ID",
    "base_model_name",
    "copy_job",
    "custom_model",
    "custom_model_arn",
    "customization_job",
    "foundation_model_arn",
    "foundation_model_id",
    "imported_model",
    "resource_id",
]

Item = dict[str, Any]

DEFAULT_BASE_MODEL_ID = "amazon.titan-text-express-v1"
TERMINAL_JOB_STATUSES = frozenset({"Completed", "Failed", "Stopped"})
_TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


def resource_id(*parts: str) -> str:
    """A 12-character lowercase alphanumeric id, like those ending Bedrock ARNs."""
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:12]


def base_model_name(base_model_id: str) -> str:
    """The ``baseModelName`` of a model customised from ``base_model_id``.

    botocore's model types it as ``ModelName``, pattern ``[a-z0-9-]{1,63}[.][a-z0-9-]{1,63}``:
    the model id without its version and context suffixes (``amazon.nova-micro-v1:0:128k`` gives
    ``amazon.nova-micro-v1``), not a display name such as "Nova Micro".
    """
    return base_model_id.split(":", 1)[0]


def foundation_model_arn(region: str, base_model_id: str) -> str:
    return f"arn:aws:bedrock:{region}::foundation-model/{base_model_id}"


def custom_model_arn(account_id: str, region: str, name: str, base_model_id: str) -> str:
    model_id = resource_id("custom-model", account_id, region, name)
    return f"arn:aws:bedrock:{region}:{account_id}:custom-model/{base_model_id}/{model_id}"


def custom_model(
    account_id: str,
    region: str,
    name: str,
    *,
    base_model_id: str = DEFAULT_BASE_MODEL_ID,
    created: str = "2024-05-01T10:00:00Z",
    customization_type: str = "FINE_TUNING",
    status: str = "Active",
    **extra: Any,
) -> Item:
    """A CustomModelSummary."""
    return {
        "modelArn": custom_model_arn(account_id, region, name, base_model_id),
        "modelName": name,
        "creationTime": created,
        "baseModelArn": foundation_model_arn(region, base_model_id),
        "baseModelName": base_model_name(base_model_id),
        "customizationType": customization_type,
        "ownerAccountId": account_id,
        "modelStatus": status,
        **extra,
    }


def customization_job(
    account_id: str,
    region: str,
    name: str,
    *,
    custom_model: Item | None = None,
    status: str = "Completed",
    base_model_id: str | None = None,
    customization_type: str | None = None,
    created: str | None = None,
    end_time: str | None = None,
    status_details: Item | None = None,
    **extra: Any,
) -> Item:
    """A ModelCustomizationJobSummary, for the job that produced ``custom_model`` when given.

    Without explicit times the job starts two hours before its model was created and ends when
    the model appears; ``endTime`` is only present once the job is in a terminal state.
    """
    if base_model_id is None:
        base_model_id = _base_model_id(custom_model) if custom_model else DEFAULT_BASE_MODEL_ID
    if customization_type is None:
        customization_type = (custom_model or {}).get("customizationType", "FINE_TUNING")
    finished = custom_model["creationTime"] if custom_model else None
    if created is None:
        created = _shift(finished, hours=-2) if finished else "2024-05-01T08:00:00Z"
    if end_time is None:
        end_time = finished or _shift(created, hours=2)
    job_id = resource_id("model-customization-job", account_id, region, name)
    job: Item = {
        "jobArn": (
            f"arn:aws:bedrock:{region}:{account_id}:model-customization-job/"
            f"{base_model_id}/{job_id}"
        ),
        "baseModelArn": foundation_model_arn(region, base_model_id),
        "jobName": name,
        "status": status,
        "creationTime": created,
        "lastModifiedTime": end_time if status in TERMINAL_JOB_STATUSES else created,
        "customizationType": customization_type,
    }
    if status in TERMINAL_JOB_STATUSES:
        job["endTime"] = end_time
    if status_details is not None:
        job["statusDetails"] = status_details
    if custom_model is not None:
        job["customModelArn"] = custom_model["modelArn"]
        job["customModelName"] = custom_model["modelName"]
    return {**job, **extra}


def copy_job(
    account_id: str,
    region: str,
    *,
    source_model: Item,
    target_name: str,
    status: str = "Completed",
    created: str = "2024-05-02T10:00:00Z",
    **extra: Any,
) -> Item:
    """A ModelCopyJobSummary copying ``source_model`` into ``account_id``/``region``."""
    source_arn: str = source_model["modelArn"]
    base_model_id = _base_model_id(source_model)
    job_id = resource_id("model-copy-job", account_id, region, target_name, source_arn)
    return {
        "jobArn": f"arn:aws:bedrock:{region}:{account_id}:model-copy-job/{job_id}",
        "status": status,
        "creationTime": created,
        "targetModelArn": custom_model_arn(account_id, region, target_name, base_model_id),
        "targetModelName": target_name,
        "sourceAccountId": source_arn.split(":")[4],
        "sourceModelArn": source_arn,
        "sourceModelName": source_model["modelName"],
        **extra,
    }


def imported_model(
    account_id: str,
    region: str,
    name: str,
    *,
    job_name: str | None = None,
    created: str = "2024-05-01T10:00:00Z",
    architecture: str = "llama3",
    instruct_supported: bool = True,
    s3_uri: str | None = None,
    kms_key_arn: str | None = None,
    custom_model_units: int = 1,
    **extra: Any,
) -> Item:
    """The full GetImportedModel body (the list view is derived from it by the simulator)."""
    job_name = job_name or f"{name}-import"
    model_id = resource_id("imported-model", account_id, region, name)
    job_id = resource_id("model-import-job", account_id, region, job_name)
    model: Item = {
        "modelArn": f"arn:aws:bedrock:{region}:{account_id}:imported-model/{model_id}",
        "modelName": name,
        "jobName": job_name,
        "jobArn": f"arn:aws:bedrock:{region}:{account_id}:model-import-job/{job_id}",
        "modelDataSource": {
            "s3DataSource": {"s3Uri": s3_uri or f"s3://model-imports-{account_id}/{name}/"}
        },
        "creationTime": created,
        "modelArchitecture": architecture,
        "instructSupported": instruct_supported,
        "customModelUnits": {
            "customModelUnitsPerModelCopy": custom_model_units,
            "customModelUnitsVersion": "v1.0",  # botocore: pattern v\d+.\d+
        },
    }
    if kms_key_arn is not None:
        model["modelKmsKeyArn"] = kms_key_arn
    return {**model, **extra}


def _base_model_id(model: Item) -> str:
    return foundation_model_id(model["baseModelArn"])


def foundation_model_id(arn: str) -> str:
    """The foundation model id at the root of a model ARN's lineage.

    ``arn:aws:bedrock:<region>::foundation-model/<id>`` names it directly; a custom model ARN,
    ``arn:aws:bedrock:<region>:<account>:custom-model/<id>/<suffix>``, names the foundation model
    it was customised from. The id may contain ":".
    """
    if "foundation-model/" in arn:
        return arn.split("foundation-model/", 1)[1]
    return arn.split(":custom-model/", 1)[1].rsplit("/", 1)[0]


def _shift(timestamp: str, *, hours: int) -> str:
    moved = datetime.fromisoformat(timestamp) + timedelta(hours=hours)
    return moved.strftime(_TIMESTAMP_FORMAT)
