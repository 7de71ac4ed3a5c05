"""Custom models: ListCustomModels (CustomModelSummary)."""

from crawler.resources.base import Field, FieldType, Link, Resource

__all__ = ["CUSTOM_MODELS"]

CUSTOM_MODELS = Resource(
    slug="custom-models",
    table="custom_models",
    list_operation="ListCustomModels",
    list_key="modelSummaries",
    arn_field="modelArn",
    # Only the models this account owns: a model shared with it is listed again in its owner's
    # account, and counting it in both would make two scopes reconcile the same row.
    list_params={"isOwned": True},
    comment="Custom models (fine-tuned, continued pre-training, distilled, copied) per account.",
    readable=(
        "model_name",
        "model_status",
        "customization_type",
        "base_model_name",
        "creation_time",
    ),
    fields=(
        Field("modelName", comment="Name of the custom model."),
        Field("creationTime", FieldType.TIMESTAMP, comment="When the model was created."),
        Field("baseModelArn", comment="ARN of the model it was customised from."),
        Field("baseModelName", comment="Name of the base model."),
        Field("customizationType", comment="FINE_TUNING, DISTILLATION, IMPORTED, ..."),
        Field("ownerAccountId", comment="Account that owns the model."),
        Field("modelStatus", comment="Active, Creating or Failed."),
    ),
    links=(Link("base_model_arn", ("custom_models", "foundation models")),),
)
