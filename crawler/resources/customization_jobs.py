"""Model customization jobs: ListModelCustomizationJobs (ModelCustomizationJobSummary)."""

from crawler.resources.base import Field, FieldType, Link, Resource

__all__ = ["CUSTOMIZATION_JOBS"]

CUSTOMIZATION_JOBS = Resource(
    slug="customization-jobs",
    table="model_customization_jobs",
    list_operation="ListModelCustomizationJobs",
    list_key="modelCustomizationJobSummaries",
    arn_field="jobArn",
    comment="Fine-tuning, continued pre-training and distillation jobs, and the models they made.",
    readable=(
        "job_name",
        "status",
        "customization_type",
        "custom_model_name",
        "creation_time",
        "end_time",
    ),
    fields=(
        Field("jobName", comment="Name of the job."),
        Field("status", comment="InProgress, Completed, Failed, Stopping or Stopped."),
        Field("statusDetails", FieldType.JSON, comment="Validation, data processing and training."),
        Field("creationTime", FieldType.TIMESTAMP, comment="When the job was created."),
        Field("lastModifiedTime", FieldType.TIMESTAMP, comment="When the job last changed."),
        Field("endTime", FieldType.TIMESTAMP, comment="When the job ended."),
        Field("baseModelArn", comment="ARN of the model being customised."),
        Field("customModelArn", comment="ARN of the custom model the job produced."),
        Field("customModelName", comment="Name of the custom model the job produced."),
        Field("customizationType", comment="FINE_TUNING, DISTILLATION, IMPORTED, ..."),
    ),
    links=(
        Link("custom_model_arn", ("custom_models",)),
        Link("base_model_arn", ("custom_models", "foundation models")),
    ),
)
