"""Imported models: ListImportedModels, then GetImportedModel for each (ImportedModelSummary and
the GetImportedModel members the summary lacks)."""

from crawler.resources.base import Detail, Field, FieldType, Link, Resource

__all__ = ["IMPORTED_MODELS"]

IMPORTED_MODELS = Resource(
    slug="imported-models",
    table="imported_models",
    list_operation="ListImportedModels",
    list_key="modelSummaries",
    arn_field="modelArn",
    detail=Detail("GetImportedModel", "modelIdentifier"),
    comment="Models imported into Bedrock (custom model import), with their import details.",
    readable=("model_name", "model_architecture", "job_name", "creation_time"),
    fields=(
        Field("modelName", comment="Name of the imported model."),
        Field("creationTime", FieldType.TIMESTAMP, comment="When the model was imported."),
        Field("instructSupported", FieldType.BOOLEAN, comment="Whether it supports instructions."),
        Field("modelArchitecture", comment="Architecture of the model, e.g. llama3."),
        Field("jobArn", comment="ARN of the import job that created it."),
        Field("jobName", comment="Name of the import job that created it."),
        Field("modelDataSource", FieldType.JSON, comment="Where the weights came from (S3)."),
        Field("modelKmsKeyArn", comment="KMS key encrypting the model."),
        Field("customModelUnits", FieldType.JSON, comment="Custom model units per model copy."),
    ),
    links=(Link("job_arn", ("model import jobs",)),),
)
