//! The KMS key that encrypts the file system at rest: the key an alias names (reused), a new key
//! behind that alias (created, rotated, tagged), or none (the AWS-managed EFS key).

use crate::aws;
use crate::error::{Result, WorkflowError};
use crate::ownership::Tags;
use crate::ownership::{EXPIRES_AT_KEY, Owner};
use crate::run::Run;
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
    if let Some(existing) = aws::kms::key(kms, alias).await? {
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
    if aws::kms::create_alias(kms, alias, metadata.key_id()).await? {
        tracing::info!(alias, key = metadata.key_id(), "KMS key created");
        return Ok(Some(KmsKey {
            alias: alias.to_string(),
            key_arn: metadata.arn().unwrap_or(metadata.key_id()).to_string(),
            created_by_workflow: true,
        }));
    }
    // A concurrent run took the alias first: use its key. The one just made stays, unaliased and
    // tagged as this namespace's, for cleanup to retire (this function may not delete keys).
    tracing::info!(
        alias,
        key = metadata.key_id(),
        "alias taken by a concurrent run; its key is used"
    );
    Box::pin(ensure_key(kms, run)).await
}

/// An enabled key this run created for `alias` (tagged at creation with the run id and the alias
/// as `Name`) that no alias points to yet.
async fn created_by_run(kms: &aws_sdk_kms::Client, run: &Run, alias: &str) -> Result<Option<KeyMetadata>> {
    let keys = aws::kms::key_ids(kms).await?;
    let wanted: Tags = run
        .tags(alias)
        .into_iter()
        .filter(|(k, _)| k != EXPIRES_AT_KEY)
        .collect();
    for key_id in &keys {
        let Some(tags) = aws::kms::readable_tags(kms, key_id).await? else {
            continue;
        };
        if wanted.iter().all(|(k, v)| tags.get(k) == Some(v))
            && let Some(metadata) = aws::kms::key(kms, key_id).await?
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
    aws::kms::enable_rotation(kms, metadata.key_id()).await?;
    Ok(metadata)
}

pub async fn is_owned(kms: &aws_sdk_kms::Client, owner: &Owner, key_id: &str) -> Result<bool> {
    Ok(aws::kms::readable_tags(kms, key_id)
        .await?
        .is_some_and(|tags| owner.owns(tags.iter().map(|(k, v)| (k.as_str(), v.as_str())))))
}

pub(crate) fn usable_arn(alias: &str, key: &KeyMetadata) -> Result<String> {
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
