//! The collector's Fargate profile `fp-efs-fargate-workflow-insights`: one per cluster, selecting
//! only the collector's namespace, on the cluster's private subnets, with the pod execution role of
//! the run that made it. Recorded in the cluster's part of the ledger and never adopted: a profile
//! of that name the ledger does not record is someone else's (`FargateProfileConflict`). Converged
//! by the `fargate-profile` step once the namespace's own profile is ACTIVE, under the same profile
//! lease; deleted by the cleanup of the cluster's last namespace.

use super::NAMESPACE;
use crate::error::{Result, WorkflowError};
use crate::ledger::{Ledger, Place};
use crate::resources::fargate_profile::{self, Found, Spec};
use crate::resources::{Kind, NOT_RECORDED};

pub const PROFILE: &str = "fp-efs-fargate-workflow-insights";

pub fn spec(cluster: &str) -> Spec<'_> {
    Spec {
        cluster,
        name: PROFILE.into(),
        namespace: NAMESPACE,
        place: Place::Cluster(cluster),
        kind: Kind::CollectorProfile,
    }
}

/// The cluster's collector profile, with its record.
pub async fn find(eks: &aws_sdk_eks::Client, ledger: &Ledger, cluster: &str) -> Result<Found> {
    let spec = spec(cluster);
    let record = ledger.get(spec.place, spec.kind, &spec.name).await?;
    fargate_profile::look_up(eks, &spec, record).await
}

/// A profile of the collector's name is usable only when the ledger records it.
pub fn check_ours(found: &Found) -> Result<()> {
    match &found.profile {
        Some(profile) if !found.is_ours() => Err(WorkflowError::FargateProfileConflict {
            name: profile.fargate_profile_name().unwrap_or(PROFILE).to_string(),
            difference: format!(
                "it is {NOT_RECORDED}, and the Container Insights collector runs on a profile of that name: delete or rename it, or leave `monitoring.containerInsights` off"
            ),
        }),
        _ => Ok(()),
    }
}
