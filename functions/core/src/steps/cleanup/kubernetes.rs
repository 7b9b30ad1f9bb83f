//! The `kubernetes` cleanup action: the namespace's Kubernetes objects, and, once the last
//! namespace of ours leaves the cluster, the workflow's own RBAC (last of all: deleting it ends the
//! workflow's rights there). A cluster that is gone, or going, takes them with it.

use super::{CleanupProgress, done};
use crate::aws;
use crate::clients::AwsClients;
use crate::error::{Result, WorkflowError};
use crate::ownership::{Owner, Scope, kept};
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
    let mut progress = match k8s::cleanup::remove(&kube, owner, scope).await {
        // Cleanup removes the workflow's access entry after the cluster's last namespace of ours
        // (a second cleanup comes after it), and without one the workflow never reached the
        // cluster: refused and without an entry, there is nothing this cleanup can do or check.
        Err(WorkflowError::ClusterAuthFailed { code, .. })
            if super::access::entries_of_ours(&clients.eks, owner).await?.is_empty() =>
        {
            return Ok(done(
                vec![],
                vec![kept(
                    format!("Kubernetes objects of namespace {}", owner.namespace),
                    format!(
                        "not checked: the cluster refuses the workflow (HTTP {code}) and has no access entry of ours, which cleanup removes after the cluster's last namespace of ours; objects left by hand-made changes are the cluster operator's to remove"
                    ),
                )],
            ));
        }
        other => other?,
    };
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
