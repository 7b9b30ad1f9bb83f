//! The `fargate-profile` cleanup action: deletes the profile under the cluster's profile lease
//! ([`profile_lease`]) and polls until it is gone.

use super::{CleanupProgress, done, pending};
use crate::aws;
use crate::clients::AwsClients;
use crate::error::Result;
use crate::lease::Acquire;
use crate::ownership::{Owner, Scope, kept};
use crate::settings::Settings;
use crate::steps::profile_lease::{self, QUEUED_POLL_SECONDS};
use aws_sdk_eks::types::FargateProfileStatus;

pub async fn fargate_profile(
    clients: &AwsClients,
    settings: &Settings,
    owner: &Owner,
    scope: &Scope,
    holder: Option<&str>,
) -> Result<CleanupProgress> {
    let eks = &clients.eks;
    let name = owner.fargate_profile_name();
    let Some(profile) = aws::eks::fargate_profile(eks, &owner.cluster, &name).await? else {
        profile_lease::release(clients, settings, &owner.cluster, holder).await?;
        return Ok(done(vec![], vec![]));
    };
    if let Some(why) = scope.why_kept(owner, aws::eks::tag_pairs(profile.tags())) {
        return Ok(done(vec![], vec![kept(format!("Fargate profile {name}"), why)]));
    }
    // Deleting already (our earlier call), or still being created (EKS refuses to delete it then).
    if matches!(
        profile.status(),
        Some(FargateProfileStatus::Deleting | FargateProfileStatus::Creating)
    ) {
        return Ok(pending(vec![]));
    }
    if let Acquire::Held(held) =
        profile_lease::acquire(clients, settings, &owner.cluster, holder, "delete-fargate-profile").await?
    {
        tracing::info!(holder = %held.holder, "queued: another execution is changing a Fargate profile of the cluster");
        return Ok(CleanupProgress {
            next_poll_seconds: settings.poll_seconds(QUEUED_POLL_SECONDS),
            ..pending(vec![])
        });
    }
    // EKS deletes one profile of a cluster at a time: `FargateProfileBusy` otherwise (retried).
    if aws::eks::delete_fargate_profile(eks, &owner.cluster, &name).await? {
        return Ok(pending(vec![name]));
    }
    profile_lease::release(clients, settings, &owner.cluster, holder).await?;
    Ok(done(vec![], vec![]))
}
