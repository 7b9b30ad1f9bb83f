//! The workflow's access to a cluster's Kubernetes API: an EKS access entry for the Kubernetes
//! steps' IAM role that carries only the group [`rbac::GROUP`], bound by the workflow's own RBAC
//! (`steps/k8s/rbac.rs`). No access policy stays associated: cluster-admin is granted only while
//! the RBAC is installed or updated (once per cluster, and after an upgrade that changes it), and
//! revoked right after, or by the rollback of a run that failed in between.

use crate::aws;
use crate::error::{Result, WorkflowError};
use crate::ownership::Owner;
use crate::run::{AccessGrant, AccessStatus, Run};
use crate::settings::AccessEntryMode;
use crate::steps::k8s::rbac;
use aws_sdk_eks::types::{AccessScope, AccessScopeType, AuthenticationMode, Cluster};

/// The access policy of the bootstrap grant: installing RBAC needs every right it grants.
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

/// What [`ensure_access`] will do for a principal, decided without changing anything (the doctor
/// and the plan show it; `prepare` then carries it out).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AccessDecision {
    /// Access entries are not managed ([`AccessEntryMode::Skip`]).
    Skip,
    /// No entry: the workflow creates its own.
    Create,
    /// The workflow's own entry; `add_group` when an older version created it without the group.
    Ours { add_group: bool },
    /// Someone else's entry that already has the rights: used as it is, never modified.
    Existing,
}

/// The cluster must allow access entries: `CONFIG_MAP` clusters have none.
pub fn check_authentication_mode(cluster: &Cluster, principal: &str) -> Result<()> {
    if cluster.access_config().and_then(|c| c.authentication_mode()) != Some(&AuthenticationMode::ConfigMap) {
        return Ok(());
    }
    let cluster_name = cluster.name().unwrap_or_default();
    Err(WorkflowError::ClusterAccessNotGranted {
        cluster: cluster_name.to_string(),
        reason: format!(
            "its authentication mode is CONFIG_MAP, which has no access entries; switch it to API_AND_CONFIG_MAP \
             (`aws eks update-cluster-config --name {cluster_name} --access-config authenticationMode=API_AND_CONFIG_MAP`, \
             a one-way change) or map {principal} in aws-auth to a group with cluster-admin rights"
        ),
    })
}

/// Decides what [`ensure_access`] will do; a `CONFIG_MAP` cluster or someone else's entry without
/// the rights is `ClusterAccessNotGranted`. Reads only.
pub async fn decide_access(
    eks: &aws_sdk_eks::Client,
    cluster: &Cluster,
    owner: &Owner,
    principal: &str,
    mode: &AccessEntryMode,
) -> Result<AccessDecision> {
    if *mode == AccessEntryMode::Skip {
        return Ok(AccessDecision::Skip);
    }
    check_authentication_mode(cluster, principal)?;
    let cluster_name = owner.cluster.as_str();
    let policy_arn = admin_policy_arn(principal);
    Ok(match aws::eks::access_entry(eks, cluster_name, principal).await? {
        Some(entry) if owner.owns_on_cluster(aws::eks::tag_pairs(entry.tags())) => AccessDecision::Ours {
            add_group: !entry.kubernetes_groups().iter().any(|g| g == rbac::GROUP),
        },
        // Its Kubernetes groups are bound by the operator's own RBAC, which we cannot inspect.
        Some(entry)
            if !entry.kubernetes_groups().is_empty()
                || has_policy(eks, cluster_name, principal, &policy_arn).await? =>
        {
            AccessDecision::Existing
        }
        Some(_) => {
            return Err(WorkflowError::ClusterAccessNotGranted {
                cluster: cluster_name.to_string(),
                reason: format!(
                    "{principal} has an access entry the workflow did not create and it lacks {policy_arn} at cluster scope; \
                     associate that policy (or Kubernetes groups with equivalent RBAC) with it, or delete the entry so the workflow creates its own"
                ),
            });
        }
        None => AccessDecision::Create,
    })
}

/// Makes sure `principal` has an access entry: ours (created here, tagged, with the group
/// [`rbac::GROUP`] and no access policy), or someone else's that already has the rights, which is
/// used as it is and never modified.
pub async fn ensure_access(
    eks: &aws_sdk_eks::Client,
    cluster: &Cluster,
    owner: &Owner,
    principal: String,
    tags: Vec<(String, String)>,
    mode: &AccessEntryMode,
) -> Result<AccessGrant> {
    let cluster_name = owner.cluster.as_str();
    let status = match decide_access(eks, cluster, owner, &principal, mode).await? {
        AccessDecision::Skip => AccessStatus::Skipped,
        AccessDecision::Ours { add_group } => {
            if add_group {
                aws::eks::set_kubernetes_groups(eks, cluster_name, &principal, vec![rbac::GROUP.into()]).await?;
            }
            AccessStatus::Created
        }
        AccessDecision::Existing => {
            tracing::info!(
                principal,
                "using an access entry the workflow did not create, unchanged"
            );
            AccessStatus::Existing
        }
        AccessDecision::Create => {
            let groups = vec![rbac::GROUP.to_string()];
            aws::eks::create_access_entry(eks, cluster_name, &principal, groups, tags.into_iter().collect()).await?;
            AccessStatus::Created
        }
    };
    Ok(AccessGrant {
        principal_arn: principal,
        status,
    })
}

/// The cluster-admin policy in the partition of `principal` (an IAM role of the cluster's account),
/// so no DescribeCluster is needed to name it.
fn admin_policy_arn(principal: &str) -> String {
    let partition = principal.split(':').nth(1).filter(|p| !p.is_empty()).unwrap_or("aws");
    format!("arn:{partition}:eks::aws:{CLUSTER_ADMIN_POLICY}")
}

/// Associates cluster-admin with our entry for the step that installs the workflow's RBAC. An
/// entry the workflow did not create is never changed: its owner must grant the rights.
pub async fn grant_bootstrap(eks: &aws_sdk_eks::Client, run: &Run) -> Result<()> {
    if run.access.status != AccessStatus::Created {
        return Err(cannot_bootstrap(run));
    }
    let principal = &run.access.principal_arn;
    let scope = AccessScope::builder().r#type(AccessScopeType::Cluster).build();
    aws::eks::associate_access_policy(
        eks,
        &run.request.cluster_name,
        principal,
        &admin_policy_arn(principal),
        scope,
    )
    .await?;
    tracing::warn!(principal, cluster = %run.request.cluster_name, "bootstrap: cluster-admin granted until the workflow's RBAC is installed");
    Ok(())
}

/// The workflow's RBAC is missing and the run's access entry is not the workflow's to change.
pub fn cannot_bootstrap(run: &Run) -> WorkflowError {
    WorkflowError::ClusterAccessNotGranted {
        cluster: run.request.cluster_name.clone(),
        reason: format!(
            "the workflow's RBAC is missing and the Kubernetes API refused {}, whose access entry the workflow did not create \
             (or does not manage), so it never changes it; associate AmazonEKSClusterAdminPolicy with it for one run, \
             or bind its Kubernetes groups to the rules of ClusterRole {} (README: Least privilege in the cluster)",
            run.access.principal_arn,
            rbac::NAME
        ),
    }
}

/// Whether the bootstrap grant is associated with the run's principal.
pub async fn bootstrap_granted(eks: &aws_sdk_eks::Client, run: &Run) -> Result<bool> {
    if run.access.status == AccessStatus::Skipped {
        return Ok(false);
    }
    let principal = &run.access.principal_arn;
    has_policy(eks, &run.request.cluster_name, principal, &admin_policy_arn(principal)).await
}

/// Removes the bootstrap grant from our entry for `principal` (an entry the workflow did not
/// create is left alone); `true` when there was one.
pub async fn revoke_bootstrap(eks: &aws_sdk_eks::Client, owner: &Owner, principal: &str) -> Result<bool> {
    let Some(entry) = aws::eks::access_entry(eks, &owner.cluster, principal).await? else {
        return Ok(false);
    };
    if !owner.owns_on_cluster(aws::eks::tag_pairs(entry.tags())) {
        return Ok(false);
    }
    let revoked =
        aws::eks::disassociate_access_policy(eks, &owner.cluster, principal, &admin_policy_arn(principal)).await?;
    if revoked {
        tracing::info!(principal, cluster = %owner.cluster, "bootstrap: cluster-admin revoked");
    }
    Ok(revoked)
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
