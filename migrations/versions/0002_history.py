"""History: <table>_history versions (SCD type 2) with content hashes, the as-of functions,
and the analyst views (current_<table>, inventory_daily, crawl_health), each with comments.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 19:17:08.997320
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# Frozen rendering of crawler.views at this revision (crawler.views.render()).
VIEWS_AND_FUNCTIONS: list[str] = [
    "CREATE VIEW custom_models_with_last_seen AS\nSELECT t.arn, t.account_id, t.region, t.model_name, t.creation_time, t.base_model_arn, t.base_model_name, t.customization_type, t.owner_account_id, t.model_status, t.raw, t.content_hash, t.first_seen_at, t.deleted_at,\n    GREATEST(seen.last_success, t.first_seen_at) AS last_seen_at\nFROM custom_models AS t\nLEFT JOIN LATERAL (\n    SELECT max(s.finished_at) AS last_success\n    FROM crawl_scopes AS s\n    WHERE s.account_id = t.account_id AND s.region = t.region\n      AND s.resource = 'custom-models' AND s.status = 'succeeded'\n      AND (t.deleted_at IS NULL OR s.finished_at < t.deleted_at)\n) AS seen ON true",
    "COMMENT ON VIEW custom_models_with_last_seen IS 'Every row of custom_models, deleted ones included, with last_seen_at.'",
    "COMMENT ON COLUMN custom_models_with_last_seen.arn IS 'ARN of the asset (modelArn).'",
    "COMMENT ON COLUMN custom_models_with_last_seen.account_id IS 'AWS account id, from the ARN.'",
    "COMMENT ON COLUMN custom_models_with_last_seen.region IS 'AWS region, from the ARN.'",
    "COMMENT ON COLUMN custom_models_with_last_seen.model_name IS 'Name of the custom model. API member modelName.'",
    "COMMENT ON COLUMN custom_models_with_last_seen.creation_time IS 'When the model was created. API member creationTime.'",
    "COMMENT ON COLUMN custom_models_with_last_seen.base_model_arn IS 'ARN of the model it was customised from. API member baseModelArn.'",
    "COMMENT ON COLUMN custom_models_with_last_seen.base_model_name IS 'Name of the base model. API member baseModelName.'",
    "COMMENT ON COLUMN custom_models_with_last_seen.customization_type IS 'FINE_TUNING, DISTILLATION, IMPORTED, ... API member customizationType.'",
    "COMMENT ON COLUMN custom_models_with_last_seen.owner_account_id IS 'Account that owns the model. API member ownerAccountId.'",
    "COMMENT ON COLUMN custom_models_with_last_seen.model_status IS 'Active, Creating or Failed. API member modelStatus.'",
    "COMMENT ON COLUMN custom_models_with_last_seen.raw IS 'The item exactly as the API returned it, members newer than the SDK included.'",
    "COMMENT ON COLUMN custom_models_with_last_seen.content_hash IS 'md5 of raw''s canonical jsonb text: when it changes, the asset has a new version.'",
    "COMMENT ON COLUMN custom_models_with_last_seen.first_seen_at IS 'When a crawl first saw the asset.'",
    "COMMENT ON COLUMN custom_models_with_last_seen.deleted_at IS 'When a successful crawl of its scope no longer saw it; NULL while it exists.'",
    "COMMENT ON COLUMN custom_models_with_last_seen.last_seen_at IS 'End of the last successful crawl of the asset''s scope while it existed (derived from crawl_scopes, never written per crawl).'",
    "CREATE VIEW model_customization_jobs_with_last_seen AS\nSELECT t.arn, t.account_id, t.region, t.job_name, t.status, t.status_details, t.creation_time, t.last_modified_time, t.end_time, t.base_model_arn, t.custom_model_arn, t.custom_model_name, t.customization_type, t.raw, t.content_hash, t.first_seen_at, t.deleted_at,\n    GREATEST(seen.last_success, t.first_seen_at) AS last_seen_at\nFROM model_customization_jobs AS t\nLEFT JOIN LATERAL (\n    SELECT max(s.finished_at) AS last_success\n    FROM crawl_scopes AS s\n    WHERE s.account_id = t.account_id AND s.region = t.region\n      AND s.resource = 'customization-jobs' AND s.status = 'succeeded'\n      AND (t.deleted_at IS NULL OR s.finished_at < t.deleted_at)\n) AS seen ON true",
    "COMMENT ON VIEW model_customization_jobs_with_last_seen IS 'Every row of model_customization_jobs, deleted ones included, with last_seen_at.'",
    "COMMENT ON COLUMN model_customization_jobs_with_last_seen.arn IS 'ARN of the asset (jobArn).'",
    "COMMENT ON COLUMN model_customization_jobs_with_last_seen.account_id IS 'AWS account id, from the ARN.'",
    "COMMENT ON COLUMN model_customization_jobs_with_last_seen.region IS 'AWS region, from the ARN.'",
    "COMMENT ON COLUMN model_customization_jobs_with_last_seen.job_name IS 'Name of the job. API member jobName.'",
    "COMMENT ON COLUMN model_customization_jobs_with_last_seen.status IS 'InProgress, Completed, Failed, Stopping or Stopped. API member status.'",
    "COMMENT ON COLUMN model_customization_jobs_with_last_seen.status_details IS 'Validation, data processing and training. API member statusDetails.'",
    "COMMENT ON COLUMN model_customization_jobs_with_last_seen.creation_time IS 'When the job was created. API member creationTime.'",
    "COMMENT ON COLUMN model_customization_jobs_with_last_seen.last_modified_time IS 'When the job last changed. API member lastModifiedTime.'",
    "COMMENT ON COLUMN model_customization_jobs_with_last_seen.end_time IS 'When the job ended. API member endTime.'",
    "COMMENT ON COLUMN model_customization_jobs_with_last_seen.base_model_arn IS 'ARN of the model being customised. API member baseModelArn.'",
    "COMMENT ON COLUMN model_customization_jobs_with_last_seen.custom_model_arn IS 'ARN of the custom model the job produced. API member customModelArn.'",
    "COMMENT ON COLUMN model_customization_jobs_with_last_seen.custom_model_name IS 'Name of the custom model the job produced. API member customModelName.'",
    "COMMENT ON COLUMN model_customization_jobs_with_last_seen.customization_type IS 'FINE_TUNING, DISTILLATION, IMPORTED, ... API member customizationType.'",
    "COMMENT ON COLUMN model_customization_jobs_with_last_seen.raw IS 'The item exactly as the API returned it, members newer than the SDK included.'",
    "COMMENT ON COLUMN model_customization_jobs_with_last_seen.content_hash IS 'md5 of raw''s canonical jsonb text: when it changes, the asset has a new version.'",
    "COMMENT ON COLUMN model_customization_jobs_with_last_seen.first_seen_at IS 'When a crawl first saw the asset.'",
    "COMMENT ON COLUMN model_customization_jobs_with_last_seen.deleted_at IS 'When a successful crawl of its scope no longer saw it; NULL while it exists.'",
    "COMMENT ON COLUMN model_customization_jobs_with_last_seen.last_seen_at IS 'End of the last successful crawl of the asset''s scope while it existed (derived from crawl_scopes, never written per crawl).'",
    "CREATE VIEW model_copy_jobs_with_last_seen AS\nSELECT t.arn, t.account_id, t.region, t.status, t.creation_time, t.source_account_id, t.source_model_arn, t.source_model_name, t.target_model_arn, t.target_model_name, t.target_model_kms_key_arn, t.target_model_tags, t.failure_message, t.raw, t.content_hash, t.first_seen_at, t.deleted_at,\n    GREATEST(seen.last_success, t.first_seen_at) AS last_seen_at\nFROM model_copy_jobs AS t\nLEFT JOIN LATERAL (\n    SELECT max(s.finished_at) AS last_success\n    FROM crawl_scopes AS s\n    WHERE s.account_id = t.account_id AND s.region = t.region\n      AND s.resource = 'copy-jobs' AND s.status = 'succeeded'\n      AND (t.deleted_at IS NULL OR s.finished_at < t.deleted_at)\n) AS seen ON true",
    "COMMENT ON VIEW model_copy_jobs_with_last_seen IS 'Every row of model_copy_jobs, deleted ones included, with last_seen_at.'",
    "COMMENT ON COLUMN model_copy_jobs_with_last_seen.arn IS 'ARN of the asset (jobArn).'",
    "COMMENT ON COLUMN model_copy_jobs_with_last_seen.account_id IS 'AWS account id, from the ARN.'",
    "COMMENT ON COLUMN model_copy_jobs_with_last_seen.region IS 'AWS region, from the ARN.'",
    "COMMENT ON COLUMN model_copy_jobs_with_last_seen.status IS 'InProgress, Completed or Failed. API member status.'",
    "COMMENT ON COLUMN model_copy_jobs_with_last_seen.creation_time IS 'When the copy started. API member creationTime.'",
    "COMMENT ON COLUMN model_copy_jobs_with_last_seen.source_account_id IS 'Account that owns the source model. API member sourceAccountId.'",
    "COMMENT ON COLUMN model_copy_jobs_with_last_seen.source_model_arn IS 'ARN of the model copied. API member sourceModelArn.'",
    "COMMENT ON COLUMN model_copy_jobs_with_last_seen.source_model_name IS 'Name of the model copied. API member sourceModelName.'",
    "COMMENT ON COLUMN model_copy_jobs_with_last_seen.target_model_arn IS 'ARN of the copy. API member targetModelArn.'",
    "COMMENT ON COLUMN model_copy_jobs_with_last_seen.target_model_name IS 'Name of the copy. API member targetModelName.'",
    "COMMENT ON COLUMN model_copy_jobs_with_last_seen.target_model_kms_key_arn IS 'KMS key encrypting the copy. API member targetModelKmsKeyArn.'",
    "COMMENT ON COLUMN model_copy_jobs_with_last_seen.target_model_tags IS 'Tags given to the copy. API member targetModelTags.'",
    "COMMENT ON COLUMN model_copy_jobs_with_last_seen.failure_message IS 'Why the copy failed. API member failureMessage.'",
    "COMMENT ON COLUMN model_copy_jobs_with_last_seen.raw IS 'The item exactly as the API returned it, members newer than the SDK included.'",
    "COMMENT ON COLUMN model_copy_jobs_with_last_seen.content_hash IS 'md5 of raw''s canonical jsonb text: when it changes, the asset has a new version.'",
    "COMMENT ON COLUMN model_copy_jobs_with_last_seen.first_seen_at IS 'When a crawl first saw the asset.'",
    "COMMENT ON COLUMN model_copy_jobs_with_last_seen.deleted_at IS 'When a successful crawl of its scope no longer saw it; NULL while it exists.'",
    "COMMENT ON COLUMN model_copy_jobs_with_last_seen.last_seen_at IS 'End of the last successful crawl of the asset''s scope while it existed (derived from crawl_scopes, never written per crawl).'",
    "CREATE VIEW imported_models_with_last_seen AS\nSELECT t.arn, t.account_id, t.region, t.model_name, t.creation_time, t.instruct_supported, t.model_architecture, t.job_arn, t.job_name, t.model_data_source, t.model_kms_key_arn, t.custom_model_units, t.raw, t.content_hash, t.first_seen_at, t.deleted_at,\n    GREATEST(seen.last_success, t.first_seen_at) AS last_seen_at\nFROM imported_models AS t\nLEFT JOIN LATERAL (\n    SELECT max(s.finished_at) AS last_success\n    FROM crawl_scopes AS s\n    WHERE s.account_id = t.account_id AND s.region = t.region\n      AND s.resource = 'imported-models' AND s.status = 'succeeded'\n      AND (t.deleted_at IS NULL OR s.finished_at < t.deleted_at)\n) AS seen ON true",
    "COMMENT ON VIEW imported_models_with_last_seen IS 'Every row of imported_models, deleted ones included, with last_seen_at.'",
    "COMMENT ON COLUMN imported_models_with_last_seen.arn IS 'ARN of the asset (modelArn).'",
    "COMMENT ON COLUMN imported_models_with_last_seen.account_id IS 'AWS account id, from the ARN.'",
    "COMMENT ON COLUMN imported_models_with_last_seen.region IS 'AWS region, from the ARN.'",
    "COMMENT ON COLUMN imported_models_with_last_seen.model_name IS 'Name of the imported model. API member modelName.'",
    "COMMENT ON COLUMN imported_models_with_last_seen.creation_time IS 'When the model was imported. API member creationTime.'",
    "COMMENT ON COLUMN imported_models_with_last_seen.instruct_supported IS 'Whether it supports instructions. API member instructSupported.'",
    "COMMENT ON COLUMN imported_models_with_last_seen.model_architecture IS 'Architecture of the model, e.g. llama3. API member modelArchitecture.'",
    "COMMENT ON COLUMN imported_models_with_last_seen.job_arn IS 'ARN of the import job that created it. API member jobArn.'",
    "COMMENT ON COLUMN imported_models_with_last_seen.job_name IS 'Name of the import job that created it. API member jobName.'",
    "COMMENT ON COLUMN imported_models_with_last_seen.model_data_source IS 'Where the weights came from (S3). API member modelDataSource.'",
    "COMMENT ON COLUMN imported_models_with_last_seen.model_kms_key_arn IS 'KMS key encrypting the model. API member modelKmsKeyArn.'",
    "COMMENT ON COLUMN imported_models_with_last_seen.custom_model_units IS 'Custom model units per model copy. API member customModelUnits.'",
    "COMMENT ON COLUMN imported_models_with_last_seen.raw IS 'The item exactly as the API returned it, members newer than the SDK included.'",
    "COMMENT ON COLUMN imported_models_with_last_seen.content_hash IS 'md5 of raw''s canonical jsonb text: when it changes, the asset has a new version.'",
    "COMMENT ON COLUMN imported_models_with_last_seen.first_seen_at IS 'When a crawl first saw the asset.'",
    "COMMENT ON COLUMN imported_models_with_last_seen.deleted_at IS 'When a successful crawl of its scope no longer saw it; NULL while it exists.'",
    "COMMENT ON COLUMN imported_models_with_last_seen.last_seen_at IS 'End of the last successful crawl of the asset''s scope while it existed (derived from crawl_scopes, never written per crawl).'",
    "CREATE VIEW current_custom_models AS\nSELECT model_name, model_status, customization_type, base_model_name, creation_time, account_id, region, arn, base_model_arn, owner_account_id, first_seen_at, last_seen_at, raw\nFROM custom_models_with_last_seen\nWHERE deleted_at IS NULL",
    "COMMENT ON VIEW current_custom_models IS 'Custom models (fine-tuned, continued pre-training, distilled, copied) per account. Only assets that exist now; readable columns first.'",
    "COMMENT ON COLUMN current_custom_models.model_name IS 'Name of the custom model. API member modelName.'",
    "COMMENT ON COLUMN current_custom_models.model_status IS 'Active, Creating or Failed. API member modelStatus.'",
    "COMMENT ON COLUMN current_custom_models.customization_type IS 'FINE_TUNING, DISTILLATION, IMPORTED, ... API member customizationType.'",
    "COMMENT ON COLUMN current_custom_models.base_model_name IS 'Name of the base model. API member baseModelName.'",
    "COMMENT ON COLUMN current_custom_models.creation_time IS 'When the model was created. API member creationTime.'",
    "COMMENT ON COLUMN current_custom_models.account_id IS 'AWS account id, from the ARN.'",
    "COMMENT ON COLUMN current_custom_models.region IS 'AWS region, from the ARN.'",
    "COMMENT ON COLUMN current_custom_models.arn IS 'ARN of the asset (modelArn).'",
    "COMMENT ON COLUMN current_custom_models.base_model_arn IS 'ARN of the model it was customised from. API member baseModelArn.'",
    "COMMENT ON COLUMN current_custom_models.owner_account_id IS 'Account that owns the model. API member ownerAccountId.'",
    "COMMENT ON COLUMN current_custom_models.first_seen_at IS 'When a crawl first saw the asset.'",
    "COMMENT ON COLUMN current_custom_models.last_seen_at IS 'End of the last successful crawl of the asset''s scope while it existed (derived from crawl_scopes, never written per crawl).'",
    "COMMENT ON COLUMN current_custom_models.raw IS 'The item exactly as the API returned it, members newer than the SDK included.'",
    "CREATE VIEW current_model_customization_jobs AS\nSELECT job_name, status, customization_type, custom_model_name, creation_time, end_time, account_id, region, arn, status_details, last_modified_time, base_model_arn, custom_model_arn, first_seen_at, last_seen_at, raw\nFROM model_customization_jobs_with_last_seen\nWHERE deleted_at IS NULL",
    "COMMENT ON VIEW current_model_customization_jobs IS 'Fine-tuning, continued pre-training and distillation jobs, and the models they made. Only assets that exist now; readable columns first.'",
    "COMMENT ON COLUMN current_model_customization_jobs.job_name IS 'Name of the job. API member jobName.'",
    "COMMENT ON COLUMN current_model_customization_jobs.status IS 'InProgress, Completed, Failed, Stopping or Stopped. API member status.'",
    "COMMENT ON COLUMN current_model_customization_jobs.customization_type IS 'FINE_TUNING, DISTILLATION, IMPORTED, ... API member customizationType.'",
    "COMMENT ON COLUMN current_model_customization_jobs.custom_model_name IS 'Name of the custom model the job produced. API member customModelName.'",
    "COMMENT ON COLUMN current_model_customization_jobs.creation_time IS 'When the job was created. API member creationTime.'",
    "COMMENT ON COLUMN current_model_customization_jobs.end_time IS 'When the job ended. API member endTime.'",
    "COMMENT ON COLUMN current_model_customization_jobs.account_id IS 'AWS account id, from the ARN.'",
    "COMMENT ON COLUMN current_model_customization_jobs.region IS 'AWS region, from the ARN.'",
    "COMMENT ON COLUMN current_model_customization_jobs.arn IS 'ARN of the asset (jobArn).'",
    "COMMENT ON COLUMN current_model_customization_jobs.status_details IS 'Validation, data processing and training. API member statusDetails.'",
    "COMMENT ON COLUMN current_model_customization_jobs.last_modified_time IS 'When the job last changed. API member lastModifiedTime.'",
    "COMMENT ON COLUMN current_model_customization_jobs.base_model_arn IS 'ARN of the model being customised. API member baseModelArn.'",
    "COMMENT ON COLUMN current_model_customization_jobs.custom_model_arn IS 'ARN of the custom model the job produced. API member customModelArn.'",
    "COMMENT ON COLUMN current_model_customization_jobs.first_seen_at IS 'When a crawl first saw the asset.'",
    "COMMENT ON COLUMN current_model_customization_jobs.last_seen_at IS 'End of the last successful crawl of the asset''s scope while it existed (derived from crawl_scopes, never written per crawl).'",
    "COMMENT ON COLUMN current_model_customization_jobs.raw IS 'The item exactly as the API returned it, members newer than the SDK included.'",
    "CREATE VIEW current_model_copy_jobs AS\nSELECT target_model_name, status, source_model_name, source_account_id, creation_time, account_id, region, arn, source_model_arn, target_model_arn, target_model_kms_key_arn, target_model_tags, failure_message, first_seen_at, last_seen_at, raw\nFROM model_copy_jobs_with_last_seen\nWHERE deleted_at IS NULL",
    "COMMENT ON VIEW current_model_copy_jobs IS 'Jobs that copied a model across regions or accounts, listed in the target account. Only assets that exist now; readable columns first.'",
    "COMMENT ON COLUMN current_model_copy_jobs.target_model_name IS 'Name of the copy. API member targetModelName.'",
    "COMMENT ON COLUMN current_model_copy_jobs.status IS 'InProgress, Completed or Failed. API member status.'",
    "COMMENT ON COLUMN current_model_copy_jobs.source_model_name IS 'Name of the model copied. API member sourceModelName.'",
    "COMMENT ON COLUMN current_model_copy_jobs.source_account_id IS 'Account that owns the source model. API member sourceAccountId.'",
    "COMMENT ON COLUMN current_model_copy_jobs.creation_time IS 'When the copy started. API member creationTime.'",
    "COMMENT ON COLUMN current_model_copy_jobs.account_id IS 'AWS account id, from the ARN.'",
    "COMMENT ON COLUMN current_model_copy_jobs.region IS 'AWS region, from the ARN.'",
    "COMMENT ON COLUMN current_model_copy_jobs.arn IS 'ARN of the asset (jobArn).'",
    "COMMENT ON COLUMN current_model_copy_jobs.source_model_arn IS 'ARN of the model copied. API member sourceModelArn.'",
    "COMMENT ON COLUMN current_model_copy_jobs.target_model_arn IS 'ARN of the copy. API member targetModelArn.'",
    "COMMENT ON COLUMN current_model_copy_jobs.target_model_kms_key_arn IS 'KMS key encrypting the copy. API member targetModelKmsKeyArn.'",
    "COMMENT ON COLUMN current_model_copy_jobs.target_model_tags IS 'Tags given to the copy. API member targetModelTags.'",
    "COMMENT ON COLUMN current_model_copy_jobs.failure_message IS 'Why the copy failed. API member failureMessage.'",
    "COMMENT ON COLUMN current_model_copy_jobs.first_seen_at IS 'When a crawl first saw the asset.'",
    "COMMENT ON COLUMN current_model_copy_jobs.last_seen_at IS 'End of the last successful crawl of the asset''s scope while it existed (derived from crawl_scopes, never written per crawl).'",
    "COMMENT ON COLUMN current_model_copy_jobs.raw IS 'The item exactly as the API returned it, members newer than the SDK included.'",
    "CREATE VIEW current_imported_models AS\nSELECT model_name, model_architecture, job_name, creation_time, account_id, region, arn, instruct_supported, job_arn, model_data_source, model_kms_key_arn, custom_model_units, first_seen_at, last_seen_at, raw\nFROM imported_models_with_last_seen\nWHERE deleted_at IS NULL",
    "COMMENT ON VIEW current_imported_models IS 'Models imported into Bedrock (custom model import), with their import details. Only assets that exist now; readable columns first.'",
    "COMMENT ON COLUMN current_imported_models.model_name IS 'Name of the imported model. API member modelName.'",
    "COMMENT ON COLUMN current_imported_models.model_architecture IS 'Architecture of the model, e.g. llama3. API member modelArchitecture.'",
    "COMMENT ON COLUMN current_imported_models.job_name IS 'Name of the import job that created it. API member jobName.'",
    "COMMENT ON COLUMN current_imported_models.creation_time IS 'When the model was imported. API member creationTime.'",
    "COMMENT ON COLUMN current_imported_models.account_id IS 'AWS account id, from the ARN.'",
    "COMMENT ON COLUMN current_imported_models.region IS 'AWS region, from the ARN.'",
    "COMMENT ON COLUMN current_imported_models.arn IS 'ARN of the asset (modelArn).'",
    "COMMENT ON COLUMN current_imported_models.instruct_supported IS 'Whether it supports instructions. API member instructSupported.'",
    "COMMENT ON COLUMN current_imported_models.job_arn IS 'ARN of the import job that created it. API member jobArn.'",
    "COMMENT ON COLUMN current_imported_models.model_data_source IS 'Where the weights came from (S3). API member modelDataSource.'",
    "COMMENT ON COLUMN current_imported_models.model_kms_key_arn IS 'KMS key encrypting the model. API member modelKmsKeyArn.'",
    "COMMENT ON COLUMN current_imported_models.custom_model_units IS 'Custom model units per model copy. API member customModelUnits.'",
    "COMMENT ON COLUMN current_imported_models.first_seen_at IS 'When a crawl first saw the asset.'",
    "COMMENT ON COLUMN current_imported_models.last_seen_at IS 'End of the last successful crawl of the asset''s scope while it existed (derived from crawl_scopes, never written per crawl).'",
    "COMMENT ON COLUMN current_imported_models.raw IS 'The item exactly as the API returned it, members newer than the SDK included.'",
    "CREATE VIEW model_lineage AS\nWITH models AS (\n    SELECT arn, 'custom'::text AS model_kind, model_name, account_id, region, base_model_arn,\n           creation_time, deleted_at, NULL::text AS import_job_arn\n    FROM custom_models\n    UNION ALL\n    SELECT arn, 'imported'::text, model_name, account_id, region, NULL::text,\n           creation_time, deleted_at, job_arn\n    FROM imported_models\n)\nSELECT\n    m.arn AS model_arn,\n    m.model_kind,\n    m.model_name,\n    m.account_id,\n    m.region,\n    m.base_model_arn,\n    m.creation_time,\n    m.deleted_at,\n    CASE\n        WHEN made.arn IS NOT NULL THEN 'customization'\n        WHEN m.import_job_arn IS NOT NULL THEN 'import'\n        WHEN copied.arn IS NOT NULL THEN 'copy'\n    END AS made_by_job_kind,\n    COALESCE(made.arn, m.import_job_arn, copied.arn) AS made_by_job_arn,\n    COALESCE(made.status, copied.status) AS made_by_job_status,\n    copied.source_model_arn AS copied_from_model_arn,\n    COALESCE(copies.arns, ARRAY[]::text[]) AS copy_job_arns\nFROM models AS m\nLEFT JOIN LATERAL (\n    SELECT j.arn, j.status FROM model_customization_jobs AS j\n    WHERE j.custom_model_arn = m.arn\n    ORDER BY j.creation_time DESC NULLS LAST LIMIT 1\n) AS made ON true\nLEFT JOIN LATERAL (\n    SELECT c.arn, c.status, c.source_model_arn FROM model_copy_jobs AS c\n    WHERE c.target_model_arn = m.arn\n    ORDER BY c.creation_time DESC NULLS LAST LIMIT 1\n) AS copied ON true\nLEFT JOIN LATERAL (\n    SELECT array_agg(c.arn ORDER BY c.creation_time, c.arn) AS arns FROM model_copy_jobs AS c\n    WHERE c.source_model_arn = m.arn OR c.target_model_arn = m.arn\n) AS copies ON true",
    "COMMENT ON VIEW model_lineage IS 'For each custom or imported model: the job that made it (customization, import or copy) and every copy job it took part in, as source or target.'",
    "COMMENT ON COLUMN model_lineage.model_arn IS 'ARN of the custom or imported model.'",
    "COMMENT ON COLUMN model_lineage.model_kind IS 'custom or imported.'",
    "COMMENT ON COLUMN model_lineage.model_name IS 'Name of the model.'",
    "COMMENT ON COLUMN model_lineage.account_id IS 'Account holding the model.'",
    "COMMENT ON COLUMN model_lineage.region IS 'Region of the model.'",
    "COMMENT ON COLUMN model_lineage.base_model_arn IS 'Model it was customised from (custom models).'",
    "COMMENT ON COLUMN model_lineage.creation_time IS 'When the model was created.'",
    "COMMENT ON COLUMN model_lineage.deleted_at IS 'When a crawl found the model gone; NULL while it exists.'",
    "COMMENT ON COLUMN model_lineage.made_by_job_kind IS 'customization, import or copy: the kind of job that made it.'",
    "COMMENT ON COLUMN model_lineage.made_by_job_arn IS 'ARN of the job that made it.'",
    "COMMENT ON COLUMN model_lineage.made_by_job_status IS 'Status of that job (customization and copy jobs).'",
    "COMMENT ON COLUMN model_lineage.copied_from_model_arn IS 'For a copy: the model it was copied from.'",
    "COMMENT ON COLUMN model_lineage.copy_job_arns IS 'Every copy job the model took part in, as source or target.'",
    "CREATE VIEW inventory_daily AS\nWITH versions AS (\n    SELECT 'custom-models'::text AS resource, arn, account_id, region, valid_from, valid_to\n    FROM custom_models_history\n    UNION ALL\n    SELECT 'customization-jobs'::text AS resource, arn, account_id, region, valid_from, valid_to\n    FROM model_customization_jobs_history\n    UNION ALL\n    SELECT 'copy-jobs'::text AS resource, arn, account_id, region, valid_from, valid_to\n    FROM model_copy_jobs_history\n    UNION ALL\n    SELECT 'imported-models'::text AS resource, arn, account_id, region, valid_from, valid_to\n    FROM imported_models_history\n), marked AS (\n    SELECT v.*,\n        lag(valid_to) OVER w AS previous_to,\n        lead(valid_from) OVER w AS next_from\n    FROM versions AS v\n    WINDOW w AS (PARTITION BY resource, arn ORDER BY valid_from)\n), events AS (\n    -- an asset appears with its first version, or with a version after a gap (a deletion)\n    SELECT resource, account_id, region, (valid_from AT TIME ZONE 'UTC')::date AS day,\n        1 AS created, 0 AS deleted\n    FROM marked WHERE previous_to IS NULL OR previous_to < valid_from\n    UNION ALL\n    -- it goes when a version closes without a next one starting at that instant\n    SELECT resource, account_id, region, (valid_to AT TIME ZONE 'UTC')::date,\n        0, 1\n    FROM marked\n    WHERE valid_to IS NOT NULL AND (next_from IS NULL OR next_from > valid_to)\n), per_day AS (\n    SELECT day, account_id, region, resource,\n        sum(created)::bigint AS created, sum(deleted)::bigint AS deleted\n    FROM events GROUP BY day, account_id, region, resource\n), first_days AS (\n    SELECT account_id, region, resource, min(day) AS first_day\n    FROM per_day GROUP BY account_id, region, resource\n), calendar AS (\n    SELECT f.account_id, f.region, f.resource, d::date AS day\n    FROM first_days AS f,\n        generate_series(f.first_day, (now() AT TIME ZONE 'UTC')::date, interval '1 day') AS d\n)\nSELECT c.day, c.account_id, c.region, c.resource,\n    sum(COALESCE(p.created, 0) - COALESCE(p.deleted, 0)) OVER (\n        PARTITION BY c.account_id, c.region, c.resource ORDER BY c.day\n    )::bigint AS assets,\n    COALESCE(p.created, 0) AS created,\n    COALESCE(p.deleted, 0) AS deleted\nFROM calendar AS c\nLEFT JOIN per_day AS p USING (day, account_id, region, resource)",
    "COMMENT ON VIEW inventory_daily IS 'One row per day (UTC), account, region and resource type: assets existing at the end of the day, created and deleted that day. Computed from the history tables; ready for a time-series chart.'",
    "COMMENT ON COLUMN inventory_daily.day IS 'The day, in UTC.'",
    "COMMENT ON COLUMN inventory_daily.account_id IS 'AWS account id.'",
    "COMMENT ON COLUMN inventory_daily.region IS 'AWS region.'",
    "COMMENT ON COLUMN inventory_daily.resource IS 'Resource type: custom-models, customization-jobs, copy-jobs, imported-models.'",
    "COMMENT ON COLUMN inventory_daily.assets IS 'Assets existing at the end of the day.'",
    "COMMENT ON COLUMN inventory_daily.created IS 'Assets that appeared that day (first seen, or seen again after deletion).'",
    "COMMENT ON COLUMN inventory_daily.deleted IS 'Assets a crawl found gone that day.'",
    "CREATE VIEW crawl_health AS\nSELECT r.id AS run_id, r.status AS run_status, r.started_at AS run_started_at,\n    r.finished_at AS run_finished_at,\n    extract(epoch FROM r.finished_at - r.started_at)::double precision AS run_seconds,\n    s.account_id, s.region, s.resource, s.status AS scope_status,\n    extract(epoch FROM s.finished_at - s.started_at)::double precision AS scope_seconds,\n    s.items, s.pages, s.retries, s.error_code, s.error_message\nFROM crawl_runs AS r\nLEFT JOIN crawl_scopes AS s ON s.run_id = r.id",
    "COMMENT ON VIEW crawl_health IS 'Per run and per scope: status, durations, retries and error codes, for an operations dashboard.'",
    "COMMENT ON COLUMN crawl_health.run_id IS 'The run.'",
    "COMMENT ON COLUMN crawl_health.run_status IS 'running, succeeded, partial, failed or interrupted.'",
    "COMMENT ON COLUMN crawl_health.run_started_at IS 'When the run began.'",
    "COMMENT ON COLUMN crawl_health.run_finished_at IS 'When the run ended.'",
    "COMMENT ON COLUMN crawl_health.run_seconds IS 'How long the run took.'",
    "COMMENT ON COLUMN crawl_health.account_id IS 'Account of the scope.'",
    "COMMENT ON COLUMN crawl_health.region IS 'Region of the scope.'",
    "COMMENT ON COLUMN crawl_health.resource IS 'Resource of the scope.'",
    "COMMENT ON COLUMN crawl_health.scope_status IS 'succeeded, failed or interrupted.'",
    "COMMENT ON COLUMN crawl_health.scope_seconds IS 'How long the scope took.'",
    "COMMENT ON COLUMN crawl_health.items IS 'Items the scope listed.'",
    "COMMENT ON COLUMN crawl_health.pages IS 'Pages the scope fetched.'",
    "COMMENT ON COLUMN crawl_health.retries IS 'Calls the scope retried (throttling, 5xx, timeouts).'",
    "COMMENT ON COLUMN crawl_health.error_code IS 'AWS error code (or ours) of a failed scope.'",
    "COMMENT ON COLUMN crawl_health.error_message IS 'Its message.'",
    "CREATE FUNCTION custom_models_as_of(ts timestamptz) RETURNS SETOF custom_models_history\nLANGUAGE sql STABLE AS $$\nSELECT * FROM custom_models_history\nWHERE valid_from <= ts AND (valid_to IS NULL OR valid_to > ts)\n$$",
    "COMMENT ON FUNCTION custom_models_as_of(ts timestamptz) IS 'The custom_models that existed at ts, each with the content it had then (one custom_models_history version per asset).'",
    "CREATE FUNCTION model_customization_jobs_as_of(ts timestamptz) RETURNS SETOF model_customization_jobs_history\nLANGUAGE sql STABLE AS $$\nSELECT * FROM model_customization_jobs_history\nWHERE valid_from <= ts AND (valid_to IS NULL OR valid_to > ts)\n$$",
    "COMMENT ON FUNCTION model_customization_jobs_as_of(ts timestamptz) IS 'The model_customization_jobs that existed at ts, each with the content it had then (one model_customization_jobs_history version per asset).'",
    "CREATE FUNCTION model_copy_jobs_as_of(ts timestamptz) RETURNS SETOF model_copy_jobs_history\nLANGUAGE sql STABLE AS $$\nSELECT * FROM model_copy_jobs_history\nWHERE valid_from <= ts AND (valid_to IS NULL OR valid_to > ts)\n$$",
    "COMMENT ON FUNCTION model_copy_jobs_as_of(ts timestamptz) IS 'The model_copy_jobs that existed at ts, each with the content it had then (one model_copy_jobs_history version per asset).'",
    "CREATE FUNCTION imported_models_as_of(ts timestamptz) RETURNS SETOF imported_models_history\nLANGUAGE sql STABLE AS $$\nSELECT * FROM imported_models_history\nWHERE valid_from <= ts AND (valid_to IS NULL OR valid_to > ts)\n$$",
    "COMMENT ON FUNCTION imported_models_as_of(ts timestamptz) IS 'The imported_models that existed at ts, each with the content it had then (one imported_models_history version per asset).'",
]

DROP_VIEWS_AND_FUNCTIONS: list[str] = [
    "DROP FUNCTION IF EXISTS imported_models_as_of(ts timestamptz)",
    "DROP FUNCTION IF EXISTS model_copy_jobs_as_of(ts timestamptz)",
    "DROP FUNCTION IF EXISTS model_customization_jobs_as_of(ts timestamptz)",
    "DROP FUNCTION IF EXISTS custom_models_as_of(ts timestamptz)",
    "DROP VIEW IF EXISTS crawl_health",
    "DROP VIEW IF EXISTS inventory_daily",
    "DROP VIEW IF EXISTS model_lineage",
    "DROP VIEW IF EXISTS current_imported_models",
    "DROP VIEW IF EXISTS current_model_copy_jobs",
    "DROP VIEW IF EXISTS current_model_customization_jobs",
    "DROP VIEW IF EXISTS current_custom_models",
    "DROP VIEW IF EXISTS imported_models_with_last_seen",
    "DROP VIEW IF EXISTS model_copy_jobs_with_last_seen",
    "DROP VIEW IF EXISTS model_customization_jobs_with_last_seen",
    "DROP VIEW IF EXISTS custom_models_with_last_seen",
]


ASSET_TABLES = ("custom_models", "imported_models", "model_copy_jobs", "model_customization_jobs")
# The views of revision 0001, replaced here and put back by downgrade().
VIEWS_0001 = (
    "model_lineage",
    "custom_models_with_last_seen",
    "imported_models_with_last_seen",
    "model_copy_jobs_with_last_seen",
    "model_customization_jobs_with_last_seen",
)


def upgrade() -> None:
    for view in VIEWS_0001:
        op.execute(f"DROP VIEW IF EXISTS {view}")
    op.create_table(
        "custom_models_history",
        sa.Column("arn", sa.Text(), nullable=False, comment="ARN of the asset."),
        sa.Column(
            "valid_from",
            postgresql.TIMESTAMP(timezone=True),
            nullable=False,
            comment="When this version was first observed.",
        ),
        sa.Column(
            "valid_to",
            postgresql.TIMESTAMP(timezone=True),
            nullable=True,
            comment="When it stopped being current (changed or deleted); NULL while current.",
        ),
        sa.Column(
            "run_id",
            sa.BigInteger(),
            nullable=True,
            comment="The run that observed this version; NULL for versions from before history.",
        ),
        sa.Column(
            "content_hash",
            sa.Text(),
            nullable=False,
            comment="md5 of raw's canonical jsonb text: when it changes, the asset has a new version.",
        ),
        sa.Column("account_id", sa.Text(), nullable=False, comment="AWS account id, from the ARN."),
        sa.Column("region", sa.Text(), nullable=False, comment="AWS region, from the ARN."),
        sa.Column(
            "model_name",
            sa.Text(),
            nullable=True,
            comment="Name of the custom model. API member modelName.",
        ),
        sa.Column(
            "creation_time",
            postgresql.TIMESTAMP(timezone=True),
            nullable=True,
            comment="When the model was created. API member creationTime.",
        ),
        sa.Column(
            "base_model_arn",
            sa.Text(),
            nullable=True,
            comment="ARN of the model it was customised from. API member baseModelArn.",
        ),
        sa.Column(
            "base_model_name",
            sa.Text(),
            nullable=True,
            comment="Name of the base model. API member baseModelName.",
        ),
        sa.Column(
            "customization_type",
            sa.Text(),
            nullable=True,
            comment="FINE_TUNING, DISTILLATION, IMPORTED, ... API member customizationType.",
        ),
        sa.Column(
            "owner_account_id",
            sa.Text(),
            nullable=True,
            comment="Account that owns the model. API member ownerAccountId.",
        ),
        sa.Column(
            "model_status",
            sa.Text(),
            nullable=True,
            comment="Active, Creating or Failed. API member modelStatus.",
        ),
        sa.Column(
            "raw",
            postgresql.JSONB(astext_type=sa.Text()),
            nullable=False,
            comment="The item exactly as the API returned it, members newer than the SDK included.",
        ),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["crawl_runs.id"],
            name=op.f("fk_custom_models_history_run_id_crawl_runs"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("arn", "valid_from", name=op.f("pk_custom_models_history")),
        comment="Every version of every row of custom_models (slowly changing dimension, type 2): a new version when its content changes, closed when it is deleted.",
    )
    op.create_index(
        "ix_custom_models_history_current",
        "custom_models_history",
        ["arn"],
        unique=True,
        postgresql_where=sa.text("valid_to IS NULL"),
    )
    op.create_index(
        "ix_custom_models_history_valid_to", "custom_models_history", ["valid_to"], unique=False
    )
    op.create_table(
        "imported_models_history",
        sa.Column("arn", sa.Text(), nullable=False, comment="ARN of the asset."),
        sa.Column(
            "valid_from",
            postgresql.TIMESTAMP(timezone=True),
            nullable=False,
            comment="When this version was first observed.",
        ),
        sa.Column(
            "valid_to",
            postgresql.TIMESTAMP(timezone=True),
            nullable=True,
            comment="When it stopped being current (changed or deleted); NULL while current.",
        ),
        sa.Column(
            "run_id",
            sa.BigInteger(),
            nullable=True,
            comment="The run that observed this version; NULL for versions from before history.",
        ),
        sa.Column(
            "content_hash",
            sa.Text(),
            nullable=False,
            comment="md5 of raw's canonical jsonb text: when it changes, the asset has a new version.",
        ),
        sa.Column("account_id", sa.Text(), nullable=False, comment="AWS account id, from the ARN."),
        sa.Column("region", sa.Text(), nullable=False, comment="AWS region, from the ARN."),
        sa.Column(
            "model_name",
            sa.Text(),
            nullable=True,
            comment="Name of the imported model. API member modelName.",
        ),
        sa.Column(
            "creation_time",
            postgresql.TIMESTAMP(timezone=True),
            nullable=True,
            comment="When the model was imported. API member creationTime.",
        ),
        sa.Column(
            "instruct_supported",
            sa.Boolean(),
            nullable=True,
            comment="Whether it supports instructions. API member instructSupported.",
        ),
        sa.Column(
            "model_architecture",
            sa.Text(),
            nullable=True,
            comment="Architecture of the model, e.g. llama3. API member modelArchitecture.",
        ),
        sa.Column(
            "job_arn",
            sa.Text(),
            nullable=True,
            comment="ARN of the import job that created it. API member jobArn.",
        ),
        sa.Column(
            "job_name",
            sa.Text(),
            nullable=True,
            comment="Name of the import job that created it. API member jobName.",
        ),
        sa.Column(
            "model_data_source",
            postgresql.JSONB(astext_type=sa.Text()),
            nullable=True,
            comment="Where the weights came from (S3). API member modelDataSource.",
        ),
        sa.Column(
            "model_kms_key_arn",
            sa.Text(),
            nullable=True,
            comment="KMS key encrypting the model. API member modelKmsKeyArn.",
        ),
        sa.Column(
            "custom_model_units",
            postgresql.JSONB(astext_type=sa.Text()),
            nullable=True,
            comment="Custom model units per model copy. API member customModelUnits.",
        ),
        sa.Column(
            "raw",
            postgresql.JSONB(astext_type=sa.Text()),
            nullable=False,
            comment="The item exactly as the API returned it, members newer than the SDK included.",
        ),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["crawl_runs.id"],
            name=op.f("fk_imported_models_history_run_id_crawl_runs"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("arn", "valid_from", name=op.f("pk_imported_models_history")),
        comment="Every version of every row of imported_models (slowly changing dimension, type 2): a new version when its content changes, closed when it is deleted.",
    )
    op.create_index(
        "ix_imported_models_history_current",
        "imported_models_history",
        ["arn"],
        unique=True,
        postgresql_where=sa.text("valid_to IS NULL"),
    )
    op.create_index(
        "ix_imported_models_history_valid_to", "imported_models_history", ["valid_to"], unique=False
    )
    op.create_table(
        "model_copy_jobs_history",
        sa.Column("arn", sa.Text(), nullable=False, comment="ARN of the asset."),
        sa.Column(
            "valid_from",
            postgresql.TIMESTAMP(timezone=True),
            nullable=False,
            comment="When this version was first observed.",
        ),
        sa.Column(
            "valid_to",
            postgresql.TIMESTAMP(timezone=True),
            nullable=True,
            comment="When it stopped being current (changed or deleted); NULL while current.",
        ),
        sa.Column(
            "run_id",
            sa.BigInteger(),
            nullable=True,
            comment="The run that observed this version; NULL for versions from before history.",
        ),
        sa.Column(
            "content_hash",
            sa.Text(),
            nullable=False,
            comment="md5 of raw's canonical jsonb text: when it changes, the asset has a new version.",
        ),
        sa.Column("account_id", sa.Text(), nullable=False, comment="AWS account id, from the ARN."),
        sa.Column("region", sa.Text(), nullable=False, comment="AWS region, from the ARN."),
        sa.Column(
            "status",
            sa.Text(),
            nullable=True,
            comment="InProgress, Completed or Failed. API member status.",
        ),
        sa.Column(
            "creation_time",
            postgresql.TIMESTAMP(timezone=True),
            nullable=True,
            comment="When the copy started. API member creationTime.",
        ),
        sa.Column(
            "source_account_id",
            sa.Text(),
            nullable=True,
            comment="Account that owns the source model. API member sourceAccountId.",
        ),
        sa.Column(
            "source_model_arn",
            sa.Text(),
            nullable=True,
            comment="ARN of the model copied. API member sourceModelArn.",
        ),
        sa.Column(
            "source_model_name",
            sa.Text(),
            nullable=True,
            comment="Name of the model copied. API member sourceModelName.",
        ),
        sa.Column(
            "target_model_arn",
            sa.Text(),
            nullable=True,
            comment="ARN of the copy. API member targetModelArn.",
        ),
        sa.Column(
            "target_model_name",
            sa.Text(),
            nullable=True,
            comment="Name of the copy. API member targetModelName.",
        ),
        sa.Column(
            "target_model_kms_key_arn",
            sa.Text(),
            nullable=True,
            comment="KMS key encrypting the copy. API member targetModelKmsKeyArn.",
        ),
        sa.Column(
            "target_model_tags",
            postgresql.JSONB(astext_type=sa.Text()),
            nullable=True,
            comment="Tags given to the copy. API member targetModelTags.",
        ),
        sa.Column(
            "failure_message",
            sa.Text(),
            nullable=True,
            comment="Why the copy failed. API member failureMessage.",
        ),
        sa.Column(
            "raw",
            postgresql.JSONB(astext_type=sa.Text()),
            nullable=False,
            comment="The item exactly as the API returned it, members newer than the SDK included.",
        ),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["crawl_runs.id"],
            name=op.f("fk_model_copy_jobs_history_run_id_crawl_runs"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("arn", "valid_from", name=op.f("pk_model_copy_jobs_history")),
        comment="Every version of every row of model_copy_jobs (slowly changing dimension, type 2): a new version when its content changes, closed when it is deleted.",
    )
    op.create_index(
        "ix_model_copy_jobs_history_current",
        "model_copy_jobs_history",
        ["arn"],
        unique=True,
        postgresql_where=sa.text("valid_to IS NULL"),
    )
    op.create_index(
        "ix_model_copy_jobs_history_valid_to", "model_copy_jobs_history", ["valid_to"], unique=False
    )
    op.create_table(
        "model_customization_jobs_history",
        sa.Column("arn", sa.Text(), nullable=False, comment="ARN of the asset."),
        sa.Column(
            "valid_from",
            postgresql.TIMESTAMP(timezone=True),
            nullable=False,
            comment="When this version was first observed.",
        ),
        sa.Column(
            "valid_to",
            postgresql.TIMESTAMP(timezone=True),
            nullable=True,
            comment="When it stopped being current (changed or deleted); NULL while current.",
        ),
        sa.Column(
            "run_id",
            sa.BigInteger(),
            nullable=True,
            comment="The run that observed this version; NULL for versions from before history.",
        ),
        sa.Column(
            "content_hash",
            sa.Text(),
            nullable=False,
            comment="md5 of raw's canonical jsonb text: when it changes, the asset has a new version.",
        ),
        sa.Column("account_id", sa.Text(), nullable=False, comment="AWS account id, from the ARN."),
        sa.Column("region", sa.Text(), nullable=False, comment="AWS region, from the ARN."),
        sa.Column(
            "job_name", sa.Text(), nullable=True, comment="Name of the job. API member jobName."
        ),
        sa.Column(
            "status",
            sa.Text(),
            nullable=True,
            comment="InProgress, Completed, Failed, Stopping or Stopped. API member status.",
        ),
        sa.Column(
            "status_details",
            postgresql.JSONB(astext_type=sa.Text()),
            nullable=True,
            comment="Validation, data processing and training. API member statusDetails.",
        ),
        sa.Column(
            "creation_time",
            postgresql.TIMESTAMP(timezone=True),
            nullable=True,
            comment="When the job was created. API member creationTime.",
        ),
        sa.Column(
            "last_modified_time",
            postgresql.TIMESTAMP(timezone=True),
            nullable=True,
            comment="When the job last changed. API member lastModifiedTime.",
        ),
        sa.Column(
            "end_time",
            postgresql.TIMESTAMP(timezone=True),
            nullable=True,
            comment="When the job ended. API member endTime.",
        ),
        sa.Column(
            "base_model_arn",
            sa.Text(),
            nullable=True,
            comment="ARN of the model being customised. API member baseModelArn.",
        ),
        sa.Column(
            "custom_model_arn",
            sa.Text(),
            nullable=True,
            comment="ARN of the custom model the job produced. API member customModelArn.",
        ),
        sa.Column(
            "custom_model_name",
            sa.Text(),
            nullable=True,
            comment="Name of the custom model the job produced. API member customModelName.",
        ),
        sa.Column(
            "customization_type",
            sa.Text(),
            nullable=True,
            comment="FINE_TUNING, DISTILLATION, IMPORTED, ... API member customizationType.",
        ),
        sa.Column(
            "raw",
            postgresql.JSONB(astext_type=sa.Text()),
            nullable=False,
            comment="The item exactly as the API returned it, members newer than the SDK included.",
        ),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["crawl_runs.id"],
            name=op.f("fk_model_customization_jobs_history_run_id_crawl_runs"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint(
            "arn", "valid_from", name=op.f("pk_model_customization_jobs_history")
        ),
        comment="Every version of every row of model_customization_jobs (slowly changing dimension, type 2): a new version when its content changes, closed when it is deleted.",
    )
    op.create_index(
        "ix_model_customization_jobs_history_current",
        "model_customization_jobs_history",
        ["arn"],
        unique=True,
        postgresql_where=sa.text("valid_to IS NULL"),
    )
    op.create_index(
        "ix_model_customization_jobs_history_valid_to",
        "model_customization_jobs_history",
        ["valid_to"],
        unique=False,
    )
    op.add_column(
        "custom_models",
        sa.Column(
            "content_hash",
            sa.Text(),
            nullable=True,
            comment="md5 of raw's canonical jsonb text: when it changes, the asset has a new version.",
        ),
    )
    op.add_column(
        "imported_models",
        sa.Column(
            "content_hash",
            sa.Text(),
            nullable=True,
            comment="md5 of raw's canonical jsonb text: when it changes, the asset has a new version.",
        ),
    )
    op.add_column(
        "model_copy_jobs",
        sa.Column(
            "content_hash",
            sa.Text(),
            nullable=True,
            comment="md5 of raw's canonical jsonb text: when it changes, the asset has a new version.",
        ),
    )
    op.add_column(
        "model_customization_jobs",
        sa.Column(
            "content_hash",
            sa.Text(),
            nullable=True,
            comment="md5 of raw's canonical jsonb text: when it changes, the asset has a new version.",
        ),
    )

    for table in ASSET_TABLES:
        op.execute(f"UPDATE {table} SET content_hash = md5(raw::text)")
        op.alter_column(table, "content_hash", nullable=False)
        # Every existing row opens its history: one version from first_seen_at, closed at
        # deleted_at for the deleted ones. The run that saw it first is not known.
        content = _content_columns(table)
        op.execute(
            f"INSERT INTO {table}_history (arn, valid_from, valid_to, run_id, content_hash, "
            f"{content}) SELECT arn, first_seen_at, deleted_at, NULL, content_hash, {content} "
            f"FROM {table}"
        )
    for statement in VIEWS_AND_FUNCTIONS:
        op.execute(statement)


def _content_columns(table: str) -> str:
    bind = op.get_bind()
    rows = bind.execute(
        sa.text(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND table_name = :t "
            "AND column_name NOT IN ('arn', 'valid_from', 'valid_to', 'run_id', 'content_hash') "
            "ORDER BY ordinal_position"
        ),
        {"t": f"{table}_history"},
    )
    return ", ".join(row[0] for row in rows)


def downgrade() -> None:
    for statement in DROP_VIEWS_AND_FUNCTIONS:
        op.execute(statement)
    op.drop_column("model_customization_jobs", "content_hash")
    op.drop_column("model_copy_jobs", "content_hash")
    op.drop_column("imported_models", "content_hash")
    op.drop_column("custom_models", "content_hash")
    op.drop_index(
        "ix_model_customization_jobs_history_valid_to",
        table_name="model_customization_jobs_history",
    )
    op.drop_index(
        "ix_model_customization_jobs_history_current",
        table_name="model_customization_jobs_history",
        postgresql_where=sa.text("valid_to IS NULL"),
    )
    op.drop_table("model_customization_jobs_history")
    op.drop_index("ix_model_copy_jobs_history_valid_to", table_name="model_copy_jobs_history")
    op.drop_index(
        "ix_model_copy_jobs_history_current",
        table_name="model_copy_jobs_history",
        postgresql_where=sa.text("valid_to IS NULL"),
    )
    op.drop_table("model_copy_jobs_history")
    op.drop_index("ix_imported_models_history_valid_to", table_name="imported_models_history")
    op.drop_index(
        "ix_imported_models_history_current",
        table_name="imported_models_history",
        postgresql_where=sa.text("valid_to IS NULL"),
    )
    op.drop_table("imported_models_history")
    op.drop_index("ix_custom_models_history_valid_to", table_name="custom_models_history")
    op.drop_index(
        "ix_custom_models_history_current",
        table_name="custom_models_history",
        postgresql_where=sa.text("valid_to IS NULL"),
    )
    op.drop_table("custom_models_history")
    _restore_0001_views()


def _restore_0001_views() -> None:
    tables = {
        "custom_models": "custom-models",
        "model_customization_jobs": "customization-jobs",
        "model_copy_jobs": "copy-jobs",
        "imported_models": "imported-models",
    }
    for table, slug in tables.items():
        op.execute(
            f"CREATE VIEW {table}_with_last_seen AS "
            "SELECT t.*, GREATEST(seen.last_success, t.first_seen_at) AS last_seen_at "
            f"FROM {table} AS t LEFT JOIN LATERAL (SELECT max(s.finished_at) AS last_success "
            "FROM crawl_scopes AS s WHERE s.account_id = t.account_id AND s.region = t.region "
            f"AND s.resource = '{slug}' AND s.status = 'succeeded' "
            "AND (t.deleted_at IS NULL OR s.finished_at < t.deleted_at)) AS seen ON true"
        )
    model_lineage = next(
        v for v in VIEWS_AND_FUNCTIONS if v.startswith("CREATE VIEW model_lineage")
    )
    op.execute(model_lineage)
