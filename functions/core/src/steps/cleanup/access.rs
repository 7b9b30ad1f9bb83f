//! The `access-entry` cleanup action: the workflow's access entries on the cluster go when the last
//! namespace of ours leaves it (every namespace's Kubernetes steps use the same entry).

use super::{CleanupProgress, done};
use crate::aws;
use crate::error::Result;
use crate::ownership::{NAMESPACE_KEY, Owner, Scope, kept};
use crate::steps::tagged::file_system_and_profile_tags;

/// Deletes the access entries the workflow created on the cluster, once no other namespace of ours
/// is provisioned there. Reports the principals removed, and those kept with the reason.
pub async fn remove(
    eks: &aws_sdk_eks::Client,
    efs: &aws_sdk_efs::Client,
    owner: &Owner,
    scope: &Scope,
) -> Result<CleanupProgress> {
    let mut ours = Vec::new();
    let mut kept_entries = Vec::new();
    for (principal, tags) in entries_of_ours(eks, owner).await? {
        match scope.keeps(tags.iter().map(|(k, v)| (k.as_str(), v.as_str()))) {
            None => ours.push(principal),
            Some(why) => kept_entries.push(kept(format!("access entry {principal}"), why)),
        }
    }
    if ours.is_empty() {
        return Ok(done(vec![], kept_entries));
    }
    let others = other_namespaces(eks, efs, owner, scope).await?;
    if !others.is_empty() {
        let kept = ours
            .into_iter()
            .map(|p| kept(p, format!("still used by namespaces {}", others.join(", "))))
            .collect();
        return Ok(done(vec![], kept));
    }
    let mut removed = Vec::new();
    for principal in ours {
        if aws::eks::delete_access_entry(eks, &owner.cluster, &principal).await? {
            removed.push(principal);
        }
    }
    Ok(done(removed, kept_entries))
}

/// The access entries the workflow created on the cluster (for any namespace), with their tags.
pub(super) async fn entries_of_ours(
    eks: &aws_sdk_eks::Client,
    owner: &Owner,
) -> Result<Vec<(String, Vec<(String, String)>)>> {
    let mut ours = Vec::new();
    for principal in aws::eks::access_entry_principals(eks, &owner.cluster).await? {
        let Some(entry) = aws::eks::access_entry(eks, &owner.cluster, &principal).await? else {
            continue;
        };
        let tags: Vec<(String, String)> = aws::eks::tag_pairs(entry.tags())
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        if owner.owns_on_cluster(tags.iter().map(|(k, v)| (k.as_str(), v.as_str()))) {
            ours.push((principal, tags));
        }
    }
    Ok(ours)
}

/// The namespaces of this cluster that still have a Fargate profile or file system of ours: other
/// namespaces, and in a rollback this one too (what remains of it was made by an earlier run).
pub(super) async fn other_namespaces(
    eks: &aws_sdk_eks::Client,
    efs: &aws_sdk_efs::Client,
    owner: &Owner,
    scope: &Scope,
) -> Result<Vec<String>> {
    let tag_sets = file_system_and_profile_tags(efs, eks, Some(&owner.cluster)).await?;
    let mut others: Vec<String> = tag_sets
        .iter()
        .filter(|tags| owner.owns_on_cluster(tags.iter().map(|(k, v)| (k.as_str(), v.as_str()))))
        .filter_map(|tags| tags.get(NAMESPACE_KEY).cloned())
        .filter(|namespace| *namespace != owner.namespace || matches!(scope, Scope::Run(_)))
        .collect();
    others.sort();
    others.dedup();
    Ok(others)
}
