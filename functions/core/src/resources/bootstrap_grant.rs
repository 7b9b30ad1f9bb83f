//! The bootstrap grant: cluster-admin associated with the workflow's own access entry for the one
//! step that installs (or updates) the workflow's RBAC, then revoked. It is recorded in the
//! ledger before it is made, so whichever of the run, its rollback or the reaper's sweep sees it
//! first revokes it: a run stopped, timed out or crashed in between never leaves cluster-admin
//! standing longer than a run may live.

use std::collections::BTreeMap;

use jiff::Timestamp;

use super::access_entry::{admin_policy_arn, has_policy};
use super::rbac;
use crate::aws;
use crate::error::{Result, WorkflowError};
use crate::lease::{self, HolderStatus};
use crate::ledger::{Ledger, Place, Record};
use crate::resources::Kind;
use crate::run::{AccessStatus, MAX_RUN_SECONDS, Run};
use aws_sdk_eks::types::{AccessScope, AccessScopeType};

/// Associates cluster-admin with the run's entry, recording the grant first. An entry the
/// workflow did not create is never changed: its owner must grant the rights.
pub async fn grant(eks: &aws_sdk_eks::Client, ledger: &Ledger, run: &Run, execution_arn: Option<&str>) -> Result<()> {
    if run.access.status != AccessStatus::Created {
        return Err(cannot_bootstrap(run));
    }
    let cluster = &run.request.cluster_name;
    let principal = &run.access.principal_arn;
    let place = Place::Cluster(cluster);
    let record = ledger
        .intend(place, Kind::BootstrapGrant, principal, &run.creator())
        .await?;
    let scope = AccessScope::builder().r#type(AccessScopeType::Cluster).build();
    aws::eks::associate_access_policy(eks, cluster, principal, &admin_policy_arn(principal), scope).await?;
    if !record.is_created() {
        let attributes = execution_arn
            .map(|arn| BTreeMap::from([("executionArn".to_string(), arn.to_string())]))
            .unwrap_or_default();
        let by = crate::ledger::Creator {
            run_id: record.run.clone(),
            generation: record.generation,
        };
        ledger
            .confirm(
                place,
                Kind::BootstrapGrant,
                principal,
                &by,
                &admin_policy_arn(principal),
                &attributes,
            )
            .await?;
    }
    tracing::warn!(principal, %cluster, "bootstrap: cluster-admin granted until the workflow's RBAC is installed");
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

/// Whether the grant is associated with the run's principal now.
pub async fn is_granted(eks: &aws_sdk_eks::Client, run: &Run) -> Result<bool> {
    if run.access.status == AccessStatus::Skipped {
        return Ok(false);
    }
    let principal = &run.access.principal_arn;
    has_policy(eks, &run.request.cluster_name, principal, &admin_policy_arn(principal)).await
}

/// Takes the grant back from `principal`'s entry on `cluster` and forgets it; `true` when one was
/// associated. Only an entry the ledger records as the workflow's is ever changed.
pub async fn revoke(eks: &aws_sdk_eks::Client, ledger: &Ledger, cluster: &str, principal: &str) -> Result<bool> {
    let place = Place::Cluster(cluster);
    if ledger.get(place, Kind::AccessEntry, principal).await?.is_none() {
        ledger.forget(place, Kind::BootstrapGrant, principal).await?;
        return Ok(false);
    }
    let revoked = aws::eks::disassociate_access_policy(eks, cluster, principal, &admin_policy_arn(principal)).await?;
    ledger.forget(place, Kind::BootstrapGrant, principal).await?;
    if revoked {
        tracing::info!(principal, %cluster, "bootstrap: cluster-admin revoked");
    }
    Ok(revoked)
}

/// Revokes the grant `run_id` made on `cluster`, if the ledger records one.
pub async fn revoke_by_run(eks: &aws_sdk_eks::Client, ledger: &Ledger, cluster: &str, run_id: &str) -> Result<bool> {
    let view = ledger.cluster(cluster).await?;
    let mut revoked = false;
    for grant in view
        .shared
        .iter()
        .filter(|r| r.kind == Kind::BootstrapGrant && r.run == run_id)
    {
        revoked |= revoke(eks, ledger, cluster, &grant.key).await?;
    }
    Ok(revoked)
}

/// Why the sweep revokes a grant: older than a run may live, or its run has ended.
pub async fn stale(sfn: &aws_sdk_sfn::Client, grant: &Record, now: Timestamp) -> Result<Option<String>> {
    let recorded: Timestamp = grant.recorded_at.parse().map_err(|e| WorkflowError::AwsApiError {
        operation: "ReadLedger".into(),
        code: "MalformedLedgerItem".into(),
        message: format!("bootstrap grant of {} has an unreadable time: {e}", grant.key),
    })?;
    let age = now.as_second() - recorded.as_second();
    if age > MAX_RUN_SECONDS {
        return Ok(Some(format!(
            "granted {age} s ago, longer than a run may live ({MAX_RUN_SECONDS} s)"
        )));
    }
    let Some(execution) = grant.attribute("executionArn") else {
        return Ok(None);
    };
    Ok(match lease::holder_status(sfn, execution).await? {
        HolderStatus::Ended(status) => Some(format!("its run {execution} has ended ({})", status.as_str())),
        HolderStatus::NotFound => Some(format!("its run {execution} does not exist")),
        HolderStatus::Running | HolderStatus::Unverifiable => None,
    })
}

/// The reaper's sweep: every recorded grant that is stale is revoked. Returns what it revoked.
pub async fn sweep(
    eks: &aws_sdk_eks::Client,
    sfn: &aws_sdk_sfn::Client,
    ledger: &Ledger,
    now: Timestamp,
) -> Result<Vec<String>> {
    let mut revoked = Vec::new();
    for grant in ledger.shared_of_kind(Kind::BootstrapGrant).await? {
        let Some(cluster) = grant.cluster.as_deref() else {
            continue;
        };
        if let Some(why) = stale(sfn, &grant, now).await? {
            tracing::warn!(%cluster, principal = %grant.key, why, "bootstrap grant left standing: revoking");
            revoke(eks, ledger, cluster, &grant.key).await?;
            revoked.push(format!("{cluster}: {} ({why})", grant.key));
        }
    }
    Ok(revoked)
}
