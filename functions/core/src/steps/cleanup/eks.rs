//! The `fargate-profile` cleanup action.

use super::scope::kept;
use super::{CleanupProgress, Scope, done, pending};
use crate::error::{Result, WorkflowError, sdk_error_code};
use crate::ownership::Owner;
use crate::steps::fargate;
use aws_sdk_eks::types::FargateProfileStatus;

pub async fn fargate_profile(eks: &aws_sdk_eks::Client, owner: &Owner, scope: &Scope) -> Result<CleanupProgress> {
    let name = owner.fargate_profile_name();
    let Some(profile) = fargate::describe_profile_of(eks, &owner.cluster, &name).await? else {
        return Ok(done(vec![], vec![]));
    };
    let tags = || {
        profile
            .tags()
            .into_iter()
            .flatten()
            .map(|(k, v)| (k.as_str(), v.as_str()))
    };
    let why_kept = if owner.owns(tags()) {
        scope.keeps(tags())
    } else {
        Some("not created by the workflow".to_string())
    };
    if let Some(why) = why_kept {
        return Ok(done(vec![], vec![kept(format!("Fargate profile {name}"), why)]));
    }
    if profile.status() == Some(&FargateProfileStatus::Deleting) {
        return Ok(pending(vec![]));
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
