//! The `kms-key` cleanup action. A key is scheduled for deletion only when the workflow created it
//! (in a rollback: that run did), it belongs to this namespace or to one that is gone, and no file
//! system in the account and region is still encrypted with it. Two namespaces may name one alias:
//! the key then stays until the last file system using it is gone. A key of this namespace that no
//! alias names (a run that lost its alias to a concurrent one left it) is retired too: the `efs`
//! function may create keys but not delete them. Keys we may not read are someone else's and are
//! skipped.

use super::{CleanupProgress, done};
use crate::aws;
use crate::error::Result;
use crate::ownership::{CLUSTER_KEY, MANAGED_BY_KEY, MANAGED_BY_VALUE, NAMESPACE_KEY, Owner, Scope, Tags, kept};
use aws_sdk_efs::types::FileSystemDescription;
use aws_sdk_kms::types::KeyState;

pub async fn keys(
    kms: &aws_sdk_kms::Client,
    efs_client: &aws_sdk_efs::Client,
    owner: &Owner,
    scope: &Scope,
    window_days: i32,
) -> Result<CleanupProgress> {
    let aliases = aws::kms::aliases(kms).await?;
    let mut file_systems: Option<Vec<FileSystemDescription>> = None;
    let (mut removed, mut kept_keys) = (Vec::new(), Vec::new());
    for alias in aliases
        .iter()
        .filter(|a| !a.alias_name().unwrap_or("alias/aws/").starts_with("alias/aws/"))
    {
        let (Some(name), Some(key_id)) = (alias.alias_name(), alias.target_key_id()) else {
            continue;
        };
        let Some(tags) = aws::kms::readable_tags(kms, key_id).await? else {
            continue;
        };
        if !is_ours_to_delete(efs_client, owner, scope, &tags, &mut kept_keys, name).await? {
            continue;
        }
        let all = match &mut file_systems {
            Some(all) => all,
            None => file_systems.insert(aws::efs::file_systems(efs_client).await?),
        };
        let Some(metadata) = aws::kms::key(kms, key_id).await? else {
            continue;
        };
        if let Some(user) = all.iter().find(|fs| encrypts_with(fs, key_id, metadata.arn())) {
            kept_keys.push(kept(
                format!("KMS key {key_id} ({name})"),
                format!("still encrypts file system {}", user.file_system_id()),
            ));
            continue;
        }
        // Key first, alias second: a retry after a failure in between still finds the key by its alias.
        if metadata.key_state() != Some(&KeyState::PendingDeletion) {
            aws::kms::schedule_deletion(kms, key_id, window_days).await?;
            removed.push(key_id.to_string());
        }
        aws::kms::delete_alias(kms, name).await?;
        removed.push(name.to_string());
    }
    let aliased: Vec<&str> = aliases.iter().filter_map(|a| a.target_key_id()).collect();
    for key_id in aws::kms::key_ids(kms).await? {
        if aliased.contains(&key_id.as_str()) {
            continue;
        }
        let Some(tags) = aws::kms::readable_tags(kms, &key_id).await? else {
            continue;
        };
        let pairs = || tags.iter().map(|(k, v)| (k.as_str(), v.as_str()));
        if !owner.owns(pairs()) || scope.keeps(pairs()).is_some() {
            continue;
        }
        let all = match &mut file_systems {
            Some(all) => all,
            None => file_systems.insert(aws::efs::file_systems(efs_client).await?),
        };
        let Some(metadata) = aws::kms::key(kms, &key_id).await? else {
            continue;
        };
        let retired = metadata.key_state() == Some(&KeyState::PendingDeletion);
        if !retired && !all.iter().any(|fs| encrypts_with(fs, &key_id, metadata.arn())) {
            // Left without an alias by a run that lost it to a concurrent one (see `ensure_key`).
            aws::kms::schedule_deletion(kms, &key_id, window_days).await?;
            removed.push(key_id);
        }
    }
    Ok(done(removed, kept_keys))
}

/// Created by the workflow, and this cleanup's to decide: this namespace's key (in a rollback,
/// this run's), or a key whose namespace was cleaned up while another namespace still used it.
async fn is_ours_to_delete(
    efs_client: &aws_sdk_efs::Client,
    owner: &Owner,
    scope: &Scope,
    tags: &Tags,
    kept_keys: &mut Vec<String>,
    alias: &str,
) -> Result<bool> {
    let pairs = || tags.iter().map(|(k, v)| (k.as_str(), v.as_str()));
    if tags.get(MANAGED_BY_KEY).map(String::as_str) != Some(MANAGED_BY_VALUE) {
        return Ok(false);
    }
    if owner.owns(pairs()) {
        return Ok(match scope.keeps(pairs()) {
            None => true,
            Some(why) => {
                kept_keys.push(kept(format!("KMS key behind {alias}"), why));
                false
            }
        });
    }
    if matches!(scope, Scope::Run(_)) {
        return Ok(false);
    }
    let (Some(cluster), Some(namespace)) = (tags.get(CLUSTER_KEY), tags.get(NAMESPACE_KEY)) else {
        return Ok(false);
    };
    let creator = Owner::new(cluster, namespace);
    Ok(aws::efs::file_system_by_token(efs_client, &creator.creation_token())
        .await?
        .is_none())
}

fn encrypts_with(fs: &FileSystemDescription, key_id: &str, key_arn: Option<&str>) -> bool {
    fs.kms_key_id()
        .is_some_and(|used| used == key_id || Some(used) == key_arn || used.ends_with(&format!("/{key_id}")))
}
