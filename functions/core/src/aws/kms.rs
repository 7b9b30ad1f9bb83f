//! KMS: keys, their tags and aliases.

use super::{all, found};
use crate::error::{Result, WorkflowError};
use crate::ownership::Tags;
use aws_sdk_kms::types::{AliasListEntry, KeyMetadata};

pub async fn key_ids(kms: &aws_sdk_kms::Client) -> Result<Vec<String>> {
    let keys = all(
        kms.list_keys().into_paginator().items().send().collect(),
        "kms:ListKeys",
    )
    .await?;
    Ok(keys.iter().filter_map(|k| k.key_id().map(str::to_string)).collect())
}

pub async fn aliases(kms: &aws_sdk_kms::Client) -> Result<Vec<AliasListEntry>> {
    all(
        kms.list_aliases().into_paginator().items().send().collect(),
        "kms:ListAliases",
    )
    .await
}

/// The key (by id, ARN or alias), if it exists.
pub async fn key(kms: &aws_sdk_kms::Client, key: &str) -> Result<Option<KeyMetadata>> {
    let described = kms.describe_key().key_id(key).send().await;
    Ok(
        found(described, "kms:DescribeKey", |e| e.is_not_found_exception())?
            .and_then(|out| out.key_metadata().cloned()),
    )
}

/// The key's tags; `None` for a key that is gone or whose policy does not let us read it (someone
/// else's key: one such key must not fail every cleanup in the account).
pub async fn readable_tags(kms: &aws_sdk_kms::Client, key_id: &str) -> Result<Option<Tags>> {
    let listed = kms.list_resource_tags().key_id(key_id).send().await;
    match found(listed, "kms:ListResourceTags", |e| e.is_not_found_exception()) {
        Ok(out) => Ok(out.map(|out| {
            out.tags()
                .iter()
                .map(|t| (t.tag_key().to_string(), t.tag_value().to_string()))
                .collect()
        })),
        Err(WorkflowError::AccessDenied { operation, message }) => {
            tracing::info!(key = key_id, %operation, %message, "skipping a KMS key we may not read");
            Ok(None)
        }
        Err(other) => Err(other),
    }
}

/// `false` when the alias is taken already.
pub async fn create_alias(kms: &aws_sdk_kms::Client, alias: &str, key_id: &str) -> Result<bool> {
    let created = kms.create_alias().alias_name(alias).target_key_id(key_id).send().await;
    Ok(found(created, "kms:CreateAlias", |e| e.is_already_exists_exception())?.is_some())
}

pub async fn delete_alias(kms: &aws_sdk_kms::Client, alias: &str) -> Result<()> {
    let deleted = kms.delete_alias().alias_name(alias).send().await;
    found(deleted, "kms:DeleteAlias", |e| e.is_not_found_exception()).map(|_| ())
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

pub async fn enable_rotation(kms: &aws_sdk_kms::Client, key_id: &str) -> Result<()> {
    kms.enable_key_rotation()
        .key_id(key_id)
        .send()
        .await
        .map(|_| ())
        .map_err(|e| WorkflowError::from_sdk("kms:EnableKeyRotation", e))
}
