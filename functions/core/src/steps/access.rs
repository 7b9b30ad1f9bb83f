//! Makes sure the workflow's own IAM role can reach the Kubernetes API through an EKS access entry.

use crate::error::{Result, WorkflowError, sdk_error_code};
use crate::ownership::{NAMESPACE_KEY, Owner};
use crate::run::{AccessGrant, AccessStatus};
use crate::settings::AccessEntryMode;
use crate::steps::cleanup::{Scope, scope::kept};
use crate::steps::tagged::file_system_and_profile_tags;
use aws_sdk_eks::types::{AccessScope, AccessScopeType, AuthenticationMode, Cluster};

/// The access policy that covers every kind the workflow manages: namespaces, persistent volumes
/// and claims, pods, storage classes and CSI drivers (several are cluster-scoped, so a
/// namespace-scoped policy is not enough).
pub const CLUSTER_ADMIN_POLICY: &str = "cluster-access-policy/AmazonEKSClusterAdminPolicy";

/// The IAM principal of the caller: an assumed-role session maps to its role.
pub fn principal_arn(caller_arn: &str) -> String {
    // arn:aws:sts::123456789012:assumed-role/RoleName/session -> arn:aws:iam::123456789012:role/RoleName
    let parts: Vec<&str> = caller_arn.splitn(6, ':').collect();
    if let [arn, partition, "sts", _, account, resource] = parts.as_slice()
        && let Some(rest) = resource.strip_prefix("assumed-role/")
    {
        let role = rest.split('/').next().unwrap_or_default();
        return format!("{arn}:{partition}:iam::{account}:role/{role}");
    }
    caller_arn.to_string()
}

fn partition_of(cluster: &Cluster) -> &str {
    cluster.arn().and_then(|arn| arn.split(':').nth(1)).unwrap_or("aws")
}

/// The principal the Kubernetes steps run as: the configured cluster-access role, else the caller.
pub async fn cluster_principal(sts: &aws_sdk_sts::Client, configured: Option<&str>) -> Result<String> {
    if let Some(role) = configured {
        return Ok(role.to_string());
    }
    let caller = sts
        .get_caller_identity()
        .send()
        .await
        .map_err(|e| WorkflowError::from_sdk("sts:GetCallerIdentity", e))?;
    Ok(principal_arn(caller.arn().unwrap_or_default()))
}

/// Makes sure `principal` has an access entry with cluster-wide rights, creating (and tagging) one
/// when there is none.
pub async fn ensure_access(
    eks: &aws_sdk_eks::Client,
    cluster: &Cluster,
    owner: &Owner,
    principal: String,
    tags: Vec<(String, String)>,
    mode: &AccessEntryMode,
) -> Result<AccessGrant> {
    if *mode == AccessEntryMode::Skip {
        return Ok(AccessGrant {
            principal_arn: principal,
            status: AccessStatus::Skipped,
        });
    }
    let cluster_name = owner.cluster.as_str();
    if cluster.access_config().and_then(|c| c.authentication_mode()) == Some(&AuthenticationMode::ConfigMap) {
        return Err(WorkflowError::ClusterAccessNotGranted {
            cluster: cluster_name.to_string(),
            reason: format!(
                "its authentication mode is CONFIG_MAP, which has no access entries; switch it to API_AND_CONFIG_MAP \
                 (`aws eks update-cluster-config --name {cluster_name} --access-config authenticationMode=API_AND_CONFIG_MAP`, \
                 a one-way change) or map {principal} in aws-auth to a group with cluster-admin rights"
            ),
        });
    }
    let policy_arn = format!("arn:{}:eks::aws:{CLUSTER_ADMIN_POLICY}", partition_of(cluster));
    let existing = eks
        .describe_access_entry()
        .cluster_name(cluster_name)
        .principal_arn(&principal)
        .send()
        .await;
    let status = match existing {
        Ok(found) => {
            let entry = found.access_entry();
            let ours = entry.is_some_and(|e| owner.owns_on_cluster(tags_of(e)));
            if !ours && !has_policy(eks, cluster_name, &principal, &policy_arn).await? {
                if entry.is_some_and(|e| !e.kubernetes_groups().is_empty()) {
                    // Its Kubernetes groups are bound by the operator's own RBAC, which we cannot inspect.
                    tracing::info!(
                        principal,
                        "access entry with Kubernetes groups exists; trusting its RBAC"
                    );
                    return Ok(AccessGrant {
                        principal_arn: principal,
                        status: AccessStatus::Existing,
                    });
                }
                return Err(WorkflowError::ClusterAccessNotGranted {
                    cluster: cluster_name.to_string(),
                    reason: format!(
                        "{principal} has an access entry the workflow did not create and it lacks {policy_arn} at cluster scope; \
                         associate that policy (or Kubernetes groups with equivalent RBAC) with it, or delete the entry so the workflow creates its own"
                    ),
                });
            }
            if ours {
                AccessStatus::Created
            } else {
                AccessStatus::Existing
            }
        }
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_resource_not_found_exception()) =>
        {
            create_entry(eks, cluster_name, &principal, tags).await?;
            AccessStatus::Created
        }
        Err(e) => return Err(WorkflowError::from_sdk("eks:DescribeAccessEntry", e)),
    };
    if status == AccessStatus::Created {
        eks.associate_access_policy()
            .cluster_name(cluster_name)
            .principal_arn(&principal)
            .policy_arn(&policy_arn)
            .access_scope(AccessScope::builder().r#type(AccessScopeType::Cluster).build())
            .send()
            .await
            .map_err(|e| WorkflowError::from_sdk("eks:AssociateAccessPolicy", e))?;
    }
    Ok(AccessGrant {
        principal_arn: principal,
        status,
    })
}

async fn create_entry(
    eks: &aws_sdk_eks::Client,
    cluster: &str,
    principal: &str,
    tags: Vec<(String, String)>,
) -> Result<()> {
    let created = eks
        .create_access_entry()
        .cluster_name(cluster)
        .principal_arn(principal)
        .set_tags(Some(tags.into_iter().collect()))
        .send()
        .await;
    match created {
        // A retry after a create whose response was lost: the entry is ours already.
        Err(e) if sdk_error_code(&e) == Some("ResourceInUseException") => Ok(()),
        other => other
            .map(|_| ())
            .map_err(|e| WorkflowError::from_sdk("eks:CreateAccessEntry", e)),
    }
}

async fn has_policy(eks: &aws_sdk_eks::Client, cluster: &str, principal: &str, policy_arn: &str) -> Result<bool> {
    let associated = eks
        .list_associated_access_policies()
        .cluster_name(cluster)
        .principal_arn(principal)
        .send()
        .await
        .map_err(|e| WorkflowError::from_sdk("eks:ListAssociatedAccessPolicies", e))?;
    Ok(associated.associated_access_policies().iter().any(|p| {
        p.policy_arn() == Some(policy_arn)
            && p.access_scope().and_then(|s| s.r#type()) == Some(&AccessScopeType::Cluster)
    }))
}

/// Deletes the access entries the workflow created on the cluster, once no other namespace of ours
/// is provisioned there: every namespace's Kubernetes steps use the same entry. Returns the
/// principals removed, and those kept with the reason.
pub async fn remove_access(
    eks: &aws_sdk_eks::Client,
    efs: &aws_sdk_efs::Client,
    owner: &Owner,
    scope: &Scope,
) -> Result<(Vec<String>, Vec<String>)> {
    let listed = eks
        .list_access_entries()
        .cluster_name(&owner.cluster)
        .into_paginator()
        .items()
        .send()
        .collect::<std::result::Result<Vec<_>, _>>()
        .await;
    let principals = match listed {
        Ok(principals) => principals,
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_resource_not_found_exception()) =>
        {
            return Ok((vec![], vec![]));
        }
        Err(e) => return Err(WorkflowError::from_sdk("eks:ListAccessEntries", e)),
    };
    let mut ours = Vec::new();
    let mut kept_entries = Vec::new();
    for principal in principals {
        let found = eks
            .describe_access_entry()
            .cluster_name(&owner.cluster)
            .principal_arn(&principal)
            .send()
            .await;
        match found {
            Ok(found) if found.access_entry().is_some_and(|e| owner.owns_on_cluster(tags_of(e))) => {
                match found.access_entry().and_then(|e| scope.keeps(tags_of(e))) {
                    None => ours.push(principal),
                    Some(why) => kept_entries.push(kept(format!("access entry {principal}"), why)),
                }
            }
            Ok(_) => {}
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_resource_not_found_exception()) => {}
            Err(e) => return Err(WorkflowError::from_sdk("eks:DescribeAccessEntry", e)),
        }
    }
    if ours.is_empty() {
        return Ok((vec![], kept_entries));
    }
    let others = other_namespaces(eks, efs, owner, scope).await?;
    if !others.is_empty() {
        let kept = ours
            .into_iter()
            .map(|p| format!("{p} (still used by namespaces {})", others.join(", ")))
            .collect();
        return Ok((vec![], kept));
    }
    let mut removed = Vec::new();
    for principal in ours {
        match eks
            .delete_access_entry()
            .cluster_name(&owner.cluster)
            .principal_arn(&principal)
            .send()
            .await
        {
            Ok(_) => removed.push(principal),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_resource_not_found_exception()) => {}
            Err(e) => return Err(WorkflowError::from_sdk("eks:DeleteAccessEntry", e)),
        }
    }
    Ok((removed, kept_entries))
}

/// The namespaces of this cluster that still have a Fargate profile or file system of ours: other
/// namespaces, and in a rollback this one too (what remains of it was made by an earlier run).
async fn other_namespaces(
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

fn tags_of(entry: &aws_sdk_eks::types::AccessEntry) -> impl Iterator<Item = (&str, &str)> {
    entry
        .tags()
        .into_iter()
        .flatten()
        .map(|(k, v)| (k.as_str(), v.as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn assumed_role_maps_to_role() {
        assert_eq!(
            principal_arn("arn:aws:sts::123456789012:assumed-role/efs-workflow-prepare/session-1"),
            "arn:aws:iam::123456789012:role/efs-workflow-prepare"
        );
        assert_eq!(
            principal_arn("arn:aws:iam::123456789012:user/moto"),
            "arn:aws:iam::123456789012:user/moto"
        );
    }
}
