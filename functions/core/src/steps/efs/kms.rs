//! The KMS key that encrypts the file system at rest: the key an alias names (reused), a new key
//! behind that alias (created, rotated, tagged), or none (the AWS-managed EFS key).

use crate::error::{Result, WorkflowError};
use crate::ownership::{EXPIRES_AT_KEY, Owner};
use crate::run::Run;
use crate::steps::tagged::Tags;
use aws_sdk_kms::types::{KeyMetadata, KeyState, KeyUsageType, Tag};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KmsKey {
    pub alias: String,
    pub key_arn: String,
    /// True when the workflow created the key (cleanup schedules its deletion only then).
    pub created_by_workflow: bool,
}

/// `None` means "AWS-managed key" (or no encryption at rest).
pub async fn ensure_key(kms: &aws_sdk_kms::Client, run: &Run) -> Result<Option<KmsKey>> {
    let encryption = &run.request.encryption;
    let (true, Some(alias)) = (encryption.at_rest, encryption.kms_key_alias.as_deref()) else {
        return Ok(None);
    };
    if let Some(existing) = describe(kms, alias).await? {
        return Ok(Some(KmsKey {
            alias: alias.to_string(),
            key_arn: usable_arn(alias, &existing)?,
            created_by_workflow: is_owned(kms, &run.owner(), existing.key_id()).await?,
        }));
    }
    // A retry after CreateKey succeeded but CreateAlias did not: the key this run made is found
    // by its tags instead of a second key being made (and the first orphaned).
    let metadata = match created_by_run(kms, run, alias).await? {
        Some(metadata) => metadata,
        None => create_key(kms, run, alias).await?,
    };
    match kms
        .create_alias()
        .alias_name(alias)
        .target_key_id(metadata.key_id())
        .send()
        .await
    {
        Ok(_) => {
            tracing::info!(alias, key = metadata.key_id(), "KMS key created");
            Ok(Some(KmsKey {
                alias: alias.to_string(),
                key_arn: metadata.arn().unwrap_or(metadata.key_id()).to_string(),
                created_by_workflow: true,
            }))
        }
        // A concurrent run took the alias first: use its key and give up the one just made.
        Err(e) if e.as_service_error().is_some_and(|s| s.is_already_exists_exception()) => {
            schedule_deletion(kms, metadata.key_id(), 7).await?;
            Box::pin(ensure_key(kms, run)).await
        }
        Err(e) => Err(WorkflowError::from_sdk("kms:CreateAlias", e)),
    }
}

/// An enabled key this run created for `alias` (tagged at creation with the run id and the alias
/// as `Name`) that no alias points to yet.
async fn created_by_run(kms: &aws_sdk_kms::Client, run: &Run, alias: &str) -> Result<Option<KeyMetadata>> {
    let keys = kms
        .list_keys()
        .into_paginator()
        .items()
        .send()
        .collect::<std::result::Result<Vec<_>, _>>()
        .await
        .map_err(|e| WorkflowError::from_sdk("kms:ListKeys", e))?;
    let wanted: Tags = run
        .tags(alias)
        .into_iter()
        .filter(|(k, _)| k != EXPIRES_AT_KEY)
        .collect();
    for key_id in keys.iter().filter_map(|k| k.key_id()) {
        let Some(tags) = readable_tags(kms, key_id).await? else {
            continue;
        };
        if wanted.iter().all(|(k, v)| tags.get(k) == Some(v))
            && let Some(metadata) = describe(kms, key_id).await?
            && metadata.key_state() == Some(&KeyState::Enabled)
        {
            tracing::info!(
                alias,
                key = key_id,
                "found the key an earlier attempt of this run created"
            );
            return Ok(Some(metadata));
        }
    }
    Ok(None)
}

async fn create_key(kms: &aws_sdk_kms::Client, run: &Run, alias: &str) -> Result<KeyMetadata> {
    let key = kms
        .create_key()
        .description(format!(
            "EFS encryption for namespace {} of EKS cluster {} (efs-fargate-workflow)",
            run.request.namespace, run.request.cluster_name
        ))
        .key_usage(KeyUsageType::EncryptDecrypt)
        .set_tags(Some(
            run.tags(alias)
                .into_iter()
                .map(|(k, v)| Tag::builder().tag_key(k).tag_value(v).build())
                .collect::<std::result::Result<_, _>>()
                .map_err(|e| WorkflowError::invalid("tags", e.to_string()))?,
        ))
        .send()
        .await
        .map_err(|e| WorkflowError::from_sdk("kms:CreateKey", e))?;
    let metadata = key
        .key_metadata()
        .cloned()
        .unwrap_or_else(|| KeyMetadata::builder().key_id("").build().expect("key_id is set"));
    kms.enable_key_rotation()
        .key_id(metadata.key_id())
        .send()
        .await
        .map_err(|e| WorkflowError::from_sdk("kms:EnableKeyRotation", e))?;
    Ok(metadata)
}

pub async fn describe(kms: &aws_sdk_kms::Client, key: &str) -> Result<Option<KeyMetadata>> {
    match kms.describe_key().key_id(key).send().await {
        Ok(out) => Ok(out.key_metadata().cloned()),
        Err(e) if e.as_service_error().is_some_and(|s| s.is_not_found_exception()) => Ok(None),
        Err(e) => Err(WorkflowError::from_sdk("kms:DescribeKey", e)),
    }
}

pub async fn is_owned(kms: &aws_sdk_kms::Client, owner: &Owner, key_id: &str) -> Result<bool> {
    Ok(readable_tags(kms, key_id)
        .await?
        .is_some_and(|tags| owner.owns(tags.iter().map(|(k, v)| (k.as_str(), v.as_str())))))
}

/// The key's tags; `None` for a key that is gone or whose policy does not let us read it (someone
/// else's key: one such key must not fail every cleanup in the account).
pub async fn readable_tags(kms: &aws_sdk_kms::Client, key_id: &str) -> Result<Option<Tags>> {
    match kms.list_resource_tags().key_id(key_id).send().await {
        Ok(out) => Ok(Some(
            out.tags()
                .iter()
                .map(|t| (t.tag_key().to_string(), t.tag_value().to_string()))
                .collect(),
        )),
        Err(e) if e.as_service_error().is_some_and(|s| s.is_not_found_exception()) => Ok(None),
        Err(e) => match WorkflowError::from_sdk("kms:ListResourceTags", e) {
            WorkflowError::AccessDenied { operation, message } => {
                tracing::info!(key = key_id, %operation, %message, "skipping a KMS key we may not read");
                Ok(None)
            }
            other => Err(other),
        },
    }
}

pub async fn schedule_deletion(kms: &aws_sdk_kms::Client, key_id: &str, window_days: i32) -> Result<()> {
    kms.schedule_key_deletion()
        .key_id(key_id)
        .pending_window_in_days(window_days)
        .send()
        .await
        .map(|_| ())
        .map_err(|e| WorkflowError::from_sdk("kms:ScheduleKeyDeletion", e))
}

fn usable_arn(alias: &str, key: &KeyMetadata) -> Result<String> {
    let unusable = |reason: String| WorkflowError::KmsKeyUnusable {
        alias: alias.to_string(),
        reason,
    };
    if key.key_state() != Some(&KeyState::Enabled) {
        return Err(unusable(format!(
            "the key is {}; enable it or choose another alias",
            key.key_state().map(|s| s.as_str()).unwrap_or("in an unknown state")
        )));
    }
    if key.key_usage().is_some_and(|u| *u != KeyUsageType::EncryptDecrypt) {
        return Err(unusable("EFS needs a symmetric ENCRYPT_DECRYPT key".into()));
    }
    Ok(key.arn().unwrap_or(key.key_id()).to_string())
}
