//! The `fargate-profile` cleanup action: deletes the profile under the cluster's profile lease
//! ([`profile_lease`]) and polls until it is gone.

use super::scope::kept;
use super::{CleanupProgress, Scope, done, pending};
use crate::clients::AwsClients;
use crate::error::{Result, WorkflowError, sdk_error_code};
use crate::lease::Acquire;
use crate::ownership::Owner;
use crate::settings::Settings;
use crate::steps::fargate;
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
    let Some(profile) = fargate::describe_profile_of(eks, &owner.cluster, &name).await? else {
        profile_lease::release(clients, settings, &owner.cluster, holder).await?;
        return Ok(done(vec![], vec![]));
    };
    let tags = profile
        .tags()
        .into_iter()
        .flatten()
        .map(|(k, v)| (k.as_str(), v.as_str()));
    if let Some(why) = scope.why_kept(owner, tags) {
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
    match eks
        .delete_fargate_profile()
        .cluster_name(&owner.cluster)
        .fargate_profile_name(&name)
        .send()
        .await
    {
        Ok(_) => Ok(pending(vec![name])),
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_resource_not_found_exception()) =>
        {
            profile_lease::release(clients, settings, &owner.cluster, holder).await?;
            Ok(done(vec![], vec![]))
        }
        // EKS deletes one profile of a cluster at a time.
        Err(e) if sdk_error_code(&e) == Some("ResourceInUseException") => Err(WorkflowError::FargateProfileBusy {
            cluster: owner.cluster.clone(),
            message: e
                .as_service_error()
                .and_then(|s| s.meta().message())
                .unwrap_or("resource in use")
                .to_string(),
        }),
        Err(e) => Err(WorkflowError::from_sdk("eks:DeleteFargateProfile", e)),
    }
}
