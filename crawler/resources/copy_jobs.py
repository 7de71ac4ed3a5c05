"""Model copy jobs: ListModelCopyJobs (ModelCopyJobSummary), listed in the target account."""

from crawler.resources.base import Field, FieldType, Link, Resource

__all__ = ["COPY_JOBS"]

COPY_JOBS = Resource(
    slug="copy-jobs",
    table="model_copy_jobs",
    list_operation="ListModelCopyJobs",
    list_key="modelCopyJobSummaries",
    arn_field="jobArn",
    comment="Jobs that copied a model across regions or accounts, listed in the target account.",
    readable=(
        "target_model_name",
        "status",
        "source_model_name",
        "source_account_id",
        "creation_time",
    ),
    fields=(
        Field("status", comment="InProgress, Completed or Failed."),
        Field("creationTime", FieldType.TIMESTAMP, comment="When the copy started."),
        Field("sourceAccountId", comment="Account that owns the source model."),
        Field("sourceModelArn", comment="ARN of the model copied."),
        Field("sourceModelName", comment="Name of the model copied."),
        Field("targetModelArn", comment="ARN of the copy."),
        Field("targetModelName", comment="Name of the copy."),
        Field("targetModelKmsKeyArn", comment="KMS key encrypting the copy."),
        Field("targetModelTags", FieldType.JSON, comment="Tags given to the copy."),
        Field("failureMessage", comment="Why the copy failed."),
    ),
    links=(
        Link("source_model_arn", ("custom_models", "imported_models")),
        Link("target_model_arn", ("custom_models", "imported_models")),
    ),
)
