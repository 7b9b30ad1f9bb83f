//! Makes sure the workflow's own IAM role can reach the Kubernetes API through an EKS access entry.

use crate::aws;
use crate::error::{Result, WorkflowError};
use crate::ownership::Owner;
use crate::run::{AccessGrant, AccessStatus};
use crate::settings::AccessEntryMode;
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
    let status = match aws::eks::access_entry(eks, cluster_name, &principal).await? {
        Some(entry) => {
            let ours = owner.owns_on_cluster(aws::eks::tag_pairs(entry.tags()));
            if !ours && !has_policy(eks, cluster_name, &principal, &policy_arn).await? {
                if !entry.kubernetes_groups().is_empty() {
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
        None => {
            aws::eks::create_access_entry(eks, cluster_name, &principal, vec![], tags.into_iter().collect()).await?;
            AccessStatus::Created
        }
    };
    if status == AccessStatus::Created {
        let scope = AccessScope::builder().r#type(AccessScopeType::Cluster).build();
        aws::eks::associate_access_policy(eks, cluster_name, &principal, &policy_arn, scope).await?;
    }
    Ok(AccessGrant {
        principal_arn: principal,
        status,
    })
}

async fn has_policy(eks: &aws_sdk_eks::Client, cluster: &str, principal: &str, policy_arn: &str) -> Result<bool> {
    let associated = aws::eks::associated_access_policies(eks, cluster, principal).await?;
    Ok(associated.iter().any(|p| {
        p.policy_arn() == Some(policy_arn)
            && p.access_scope().and_then(|s| s.r#type()) == Some(&AccessScopeType::Cluster)
    }))
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
