//! The `kubernetes` cleanup action: the namespace's Kubernetes objects, and, once the last
//! namespace of ours leaves the cluster, the workflow's own RBAC (last of all: deleting it ends the
//! workflow's rights there). A cluster that is gone, or going, takes them with it.

use super::{CleanupProgress, done};
use crate::aws;
use crate::clients::AwsClients;
use crate::error::{Result, WorkflowError};
use crate::ownership::{Owner, Scope};
use crate::settings::Settings;
use crate::steps::k8s::{self, Kube};
use aws_sdk_eks::types::ClusterStatus;

pub async fn remove(
    clients: &AwsClients,
    settings: &Settings,
    owner: &Owner,
    scope: &Scope,
) -> Result<CleanupProgress> {
    let cluster = match aws::eks::cluster(&clients.eks, &owner.cluster).await {
        Err(WorkflowError::ClusterNotFound { .. }) => return Ok(done(vec![], vec![])),
        Ok(cluster) if cluster.status() == Some(&ClusterStatus::Deleting) => return Ok(done(vec![], vec![])),
        other => other?,
    };
    let kube = Kube::connect_to(clients, settings, &cluster).await?;
    let mut progress = k8s::cleanup::remove(&kube, owner, scope).await?;
    if progress.done
        && super::access::other_namespaces(&clients.eks, &clients.efs, owner, scope)
            .await?
            .is_empty()
    {
        match k8s::rbac::remove(&kube, owner, scope).await? {
            Some(Ok(removed)) => progress.removed.push(removed),
            Some(Err(kept)) => progress.kept.push(kept),
            None => {}
        }
    }
    Ok(super::progress(progress.done, progress.removed, progress.kept))
}
