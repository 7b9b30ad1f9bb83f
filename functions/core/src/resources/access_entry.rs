//! The workflow's EKS access entry on a cluster: the Kubernetes steps' IAM role reaches the API
//! through it, with only the group [`rbac::GROUP`] (bound by the workflow's own RBAC). Shared by
//! every namespace of the cluster, so it is recorded in the cluster's part of the ledger, and
//! removed only when the ledger shows no namespace of this deployment on the cluster and no
//! Kubernetes object of ours left there (see `shared.rs`). An entry the ledger does not record is
//! someone else's: used as it is when it has the rights, never changed or deleted.

use super::rbac;
use crate::aws;
use crate::error::{Result, WorkflowError};
use crate::ledger::{ClusterView, Ledger, Place, Record};
use crate::resources::{Kind, Recorder};
use crate::run::{AccessGrant, AccessStatus};
use crate::settings::AccessEntryMode;
use aws_sdk_eks::types::{AccessEntry, AccessScopeType, AuthenticationMode, Cluster};
use std::collections::BTreeMap;

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

/// What the run will do about the principal's access entry: the one decision the doctor, the plan
/// and `prepare` share.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AccessDecision {
    /// Access entries are not managed ([`AccessEntryMode::Skip`]).
    Skip,
    /// No entry: the workflow creates its own.
    Create,
    /// The workflow's own entry (the ledger records it); `add_group` when it lacks the group.
    Ours { add_group: bool },
    /// Someone else's entry that already has the rights: used as it is, never modified.
    Existing,
}

/// What was found for the principal.
pub struct Found {
    pub entry: Option<AccessEntry>,
    /// Whether it holds cluster-admin at cluster scope (asked only of an entry the ledger does not
    /// record, whose Kubernetes groups the workflow cannot judge).
    pub has_admin: bool,
    /// The ledger's record of it.
    pub recorded: bool,
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

/// Looks the principal's entry up, and whether the ledger records it.
pub async fn find(eks: &aws_sdk_eks::Client, view: &ClusterView, cluster: &str, principal: &str) -> Result<Found> {
    let entry = aws::eks::access_entry(eks, cluster, principal).await?;
    let recorded = entry.as_ref().is_some_and(|entry| is_recorded(view, principal, entry));
    let has_admin = match &entry {
        Some(entry) if !recorded && entry.kubernetes_groups().is_empty() => {
            has_policy(eks, cluster, principal, &admin_policy_arn(principal)).await?
        }
        _ => false,
    };
    Ok(Found {
        entry,
        has_admin,
        recorded,
    })
}

/// The ledger records this entry: its ARN, or (after a crash between the create call and the
/// confirmation) an intent for the principal, confirmed by [`ensure`].
fn is_recorded(view: &ClusterView, principal: &str, entry: &AccessEntry) -> bool {
    view.shared(Kind::AccessEntry, principal)
        .is_some_and(|record| record.resource_id.is_none() || record.resource_id.as_deref() == entry.access_entry_arn())
}

/// Decides, changing nothing; a `CONFIG_MAP` cluster or someone else's entry without the rights is
/// `ClusterAccessNotGranted`.
pub fn decide(cluster: &Cluster, found: &Found, principal: &str, mode: &AccessEntryMode) -> Result<AccessDecision> {
    if *mode == AccessEntryMode::Skip {
        return Ok(AccessDecision::Skip);
    }
    check_authentication_mode(cluster, principal)?;
    let cluster_name = cluster.name().unwrap_or_default();
    Ok(match &found.entry {
        None => AccessDecision::Create,
        Some(entry) if found.recorded => AccessDecision::Ours {
            add_group: !entry.kubernetes_groups().iter().any(|g| g == rbac::GROUP),
        },
        // Its Kubernetes groups are bound by the operator's own RBAC, which we cannot inspect.
        Some(entry) if !entry.kubernetes_groups().is_empty() || found.has_admin => AccessDecision::Existing,
        Some(_) => {
            return Err(WorkflowError::ClusterAccessNotGranted {
                cluster: cluster_name.to_string(),
                reason: format!(
                    "{principal} has an access entry the workflow did not create (its ledger does not record it) and it lacks {} at cluster scope; \
                     associate that policy (or Kubernetes groups with equivalent RBAC) with it, or delete the entry so the workflow creates its own",
                    admin_policy_arn(principal)
                ),
            });
        }
    })
}

/// Carries out `decision` for `principal`, recording an entry it creates in the cluster's part of
/// the ledger (intent before the call, confirmed with the entry's ARN after).
pub async fn apply(
    eks: &aws_sdk_eks::Client,
    recorder: Recorder<'_>,
    principal: String,
    decision: AccessDecision,
    tags: Vec<(String, String)>,
) -> Result<AccessGrant> {
    let cluster = recorder.owner.cluster.as_str();
    let place = recorder.cluster();
    let status = match decision {
        AccessDecision::Skip => AccessStatus::Skipped,
        AccessDecision::Existing => {
            tracing::info!(
                principal,
                "using an access entry the workflow did not create, unchanged"
            );
            AccessStatus::Existing
        }
        AccessDecision::Ours { add_group } => {
            if add_group {
                aws::eks::set_kubernetes_groups(eks, cluster, &principal, vec![rbac::GROUP.into()]).await?;
            }
            confirm_found(eks, recorder, &principal).await?;
            AccessStatus::Created
        }
        AccessDecision::Create => {
            recorder.intend(place, Kind::AccessEntry, &principal).await?;
            let groups = vec![rbac::GROUP.to_string()];
            aws::eks::create_access_entry(eks, cluster, &principal, groups, tags.into_iter().collect()).await?;
            confirm_found(eks, recorder, &principal).await?;
            AccessStatus::Created
        }
    };
    Ok(AccessGrant {
        principal_arn: principal,
        status,
    })
}

/// Confirms the entry's record (an interrupted run's intent too) with the entry's ARN.
async fn confirm_found(eks: &aws_sdk_eks::Client, recorder: Recorder<'_>, principal: &str) -> Result<()> {
    let cluster = recorder.owner.cluster.as_str();
    let entry =
        aws::eks::access_entry(eks, cluster, principal)
            .await?
            .ok_or_else(|| WorkflowError::DependencyNotReady {
                resource: format!("access entry of {principal} on {cluster}"),
                message: "created but not yet readable".into(),
            })?;
    let arn = entry.access_entry_arn().unwrap_or(principal);
    recorder
        .settle(recorder.cluster(), Kind::AccessEntry, principal, arn, BTreeMap::new())
        .await
}

/// Deletes the entry `record` stands for, if it is still that entry (an entry someone made for the
/// principal after ours was gone is theirs), and forgets it; `true` when one was deleted.
pub async fn remove(eks: &aws_sdk_eks::Client, ledger: &Ledger, cluster: &str, record: &Record) -> Result<bool> {
    let principal = &record.key;
    let entry = aws::eks::access_entry(eks, cluster, principal).await?;
    let ours = entry
        .as_ref()
        .is_some_and(|entry| !record.is_created() || record.resource_id.as_deref() == entry.access_entry_arn());
    let deleted = ours && aws::eks::delete_access_entry(eks, cluster, principal).await?;
    ledger
        .forget(Place::Cluster(cluster), Kind::AccessEntry, principal)
        .await?;
    Ok(deleted)
}

/// The cluster-admin policy in the partition of `principal` (an IAM role of the cluster's account),
/// so no DescribeCluster is needed to name it.
pub fn admin_policy_arn(principal: &str) -> String {
    let partition = principal.split(':').nth(1).filter(|p| !p.is_empty()).unwrap_or("aws");
    format!("arn:{partition}:eks::aws:{CLUSTER_ADMIN_POLICY}")
}

pub async fn has_policy(eks: &aws_sdk_eks::Client, cluster: &str, principal: &str, policy_arn: &str) -> Result<bool> {
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

    fn cluster(mode: AuthenticationMode) -> Cluster {
        Cluster::builder()
            .name("demo")
            .access_config(
                aws_sdk_eks::types::AccessConfigResponse::builder()
                    .authentication_mode(mode)
                    .build(),
            )
            .build()
    }

    fn entry(groups: &[&str]) -> AccessEntry {
        AccessEntry::builder()
            .access_entry_arn("arn:aws:eks:us-east-1:123456789012:access-entry/demo/role/x")
            .set_kubernetes_groups(Some(groups.iter().map(|g| g.to_string()).collect()))
            .build()
    }

    #[test]
    fn only_a_recorded_entry_is_ours_and_a_foreign_one_needs_rights() {
        let api = cluster(AuthenticationMode::Api);
        let principal = "arn:aws:iam::123456789012:role/x";
        let found = |entry: Option<AccessEntry>, recorded: bool, has_admin: bool| Found {
            entry,
            has_admin,
            recorded,
        };
        let manage = AccessEntryMode::Manage;
        assert_eq!(
            decide(&api, &found(None, false, false), principal, &manage).unwrap(),
            AccessDecision::Create
        );
        assert_eq!(
            decide(
                &api,
                &found(Some(entry(&[rbac::GROUP])), true, false),
                principal,
                &manage
            )
            .unwrap(),
            AccessDecision::Ours { add_group: false }
        );
        // Our tags copied onto someone else's entry change nothing: the ledger decides.
        assert_eq!(
            decide(&api, &found(Some(entry(&["ops"])), false, false), principal, &manage).unwrap(),
            AccessDecision::Existing
        );
        let err = decide(&api, &found(Some(entry(&[])), false, false), principal, &manage).unwrap_err();
        assert_eq!(err.error_type(), "ClusterAccessNotGranted");
        assert_eq!(
            decide(&api, &found(Some(entry(&[])), false, true), principal, &manage).unwrap(),
            AccessDecision::Existing
        );
        let config_map = cluster(AuthenticationMode::ConfigMap);
        assert!(decide(&config_map, &found(None, false, false), principal, &manage).is_err());
        assert_eq!(
            decide(
                &config_map,
                &found(None, false, false),
                principal,
                &AccessEntryMode::Skip
            )
            .unwrap(),
            AccessDecision::Skip
        );
    }
}
