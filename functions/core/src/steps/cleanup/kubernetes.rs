//! The `kubernetes` cleanup action: the namespace's recorded Kubernetes objects, then, when the
//! ledger shows no other namespace of this deployment on the cluster (decided under the cluster's
//! lease, which this cleanup then keeps until `finish`), the objects the namespaces share, the
//! workflow's own RBAC last of all (deleting it ends the workflow's rights there). Nothing is
//! looked up in a cluster the ledger records nothing of ours on, and a cluster that is gone took
//! its objects with it.

use aws_sdk_eks::types::ClusterStatus;

use crate::aws;
use crate::clients::AwsClients;
use crate::error::{Result, WorkflowError};
use crate::k8s::Kube;
use crate::lease::Acquire;
use crate::ledger::{ClusterView, Ledger, NamespaceView};
use crate::ownership::Owner;
use crate::resources::collector::remove_collector;
use crate::resources::kube_object::Sweep;
use crate::resources::{CleanupScope, Removal, logging, namespace, rbac, shared, storage_objects, workload};
use crate::settings::Settings;
use crate::steps::cluster_lease;

/// The cleanup's view: what it may touch, and where.
pub struct Context<'a> {
    pub clients: &'a AwsClients,
    pub settings: &'a Settings,
    pub ledger: &'a Ledger,
    pub owner: &'a Owner,
    pub view: &'a NamespaceView,
    pub scope: &'a CleanupScope,
    /// The cleanup execution: the holder of the cluster's lease.
    pub holder: &'a str,
}

pub async fn remove(cx: &Context<'_>) -> Result<Removal> {
    let cluster_view = cx.ledger.cluster(&cx.owner.cluster).await?;
    let own = cx.view.records.iter().any(|r| r.kind.is_namespaced_kubernetes());
    let shared_left = cluster_view.shared.iter().any(|r| r.kind.is_shared_kubernetes());
    let cluster = match aws::eks::cluster(&cx.clients.eks, &cx.owner.cluster).await {
        Err(WorkflowError::ClusterNotFound { .. }) => return forget_cluster_objects(cx, &cluster_view).await,
        Ok(cluster) if cluster.status() == Some(&ClusterStatus::Deleting) => {
            return Ok(Removal::pending().kept(
                format!("Kubernetes objects on cluster {}", cx.owner.cluster),
                "the cluster is being deleted and takes them with it",
            ));
        }
        other => other?,
    };
    if !own && !shared_left {
        return Ok(look_at_namespace(cx, &cluster).await);
    }
    let kube = Kube::connect_to(cx.clients, cx.settings, &cluster).await?;
    let removal = own_objects(&kube, cx).await?;
    if !removal.done {
        return Ok(removal);
    }
    Ok(removal.and(shared_objects(&kube, cx).await?))
}

/// With nothing of ours recorded on the cluster, the namespace is only looked at, to say why it
/// stays when it exists. The workflow's access may have gone with the last of its objects: not
/// being able to look is no reason to fail a cleanup that has nothing to delete.
async fn look_at_namespace(cx: &Context<'_>, cluster: &aws_sdk_eks::types::Cluster) -> Removal {
    let looked = async {
        let kube = Kube::connect_to(cx.clients, cx.settings, cluster).await?;
        namespace::kept_unrecorded(&kube, cx.ledger, cx.owner).await
    };
    looked.await.unwrap_or_else(|error| {
        tracing::info!(%error, "nothing of ours recorded on the cluster, and the namespace could not be looked at");
        Removal::done()
    })
}

/// The namespace's own objects, the namespace itself last; objects that carry our labels but are
/// not recorded are reported and left.
async fn own_objects(kube: &Kube, cx: &Context<'_>) -> Result<Removal> {
    let sweep = Sweep {
        kube,
        ledger: cx.ledger,
        owner: cx.owner,
        view: cx.view,
        scope: cx.scope,
    };
    let removal = remove_collector(&sweep).await?;
    let removal = removal.and(workload::remove(&sweep).await?);
    if !removal.done {
        return Ok(removal);
    }
    Ok(removal.and(namespace::remove(&sweep).await?))
}

/// What the cluster's namespaces share, once no other namespace of this deployment needs it:
/// decided and removed under the cluster's lease, which this cleanup keeps (`finish` releases it),
/// so no provisioning run joins the cluster while its access is being taken away.
async fn shared_objects(kube: &Kube, cx: &Context<'_>) -> Result<Removal> {
    let cluster = &cx.owner.cluster;
    // What stays because it is not ours, reported every time.
    let removal = storage_objects::kept_unrecorded(kube, cx.ledger, cluster).await?;
    let removal = removal.and(logging::kept_unrecorded(kube, cx.ledger, cluster).await?);
    let view = cx.ledger.cluster(cluster).await?;
    if !view.shared.iter().any(|r| r.kind.is_shared_kubernetes()) {
        return Ok(removal);
    }
    if let Some(kept) = still_used(cx, &view).await? {
        return Ok(removal.and(kept));
    }
    if let Acquire::Held(held) =
        cluster_lease::acquire(cx.clients, cx.settings, cluster, cx.holder, "remove-shared").await?
    {
        return Ok(removal.and(Removal::pending().kept(
            format!("what the namespaces of cluster {cluster} share"),
            format!("waiting for {}, which holds the cluster's lease", held.holder),
        )));
    }
    // Again under the lease: a run may have joined since the first look.
    let view = cx.ledger.cluster(cluster).await?;
    if let Some(kept) = still_used(cx, &view).await? {
        cluster_lease::release(cx.clients, cx.settings, cluster, cx.holder).await?;
        return Ok(removal.and(kept));
    }
    let removal = removal.and(storage_objects::remove(kube, cx.ledger, cluster).await?);
    let removal = removal.and(logging::remove(kube, cx.ledger, cluster).await?);
    if !removal.done {
        return Ok(removal);
    }
    Ok(removal.and(rbac::remove(kube, cx.ledger, cluster).await?))
}

/// Why the shared objects stay: another namespace of this deployment still needs them.
async fn still_used(cx: &Context<'_>, view: &ClusterView) -> Result<Option<Removal>> {
    let members = shared::members(&cx.clients.sfn, view, &cx.owner.namespace).await?;
    Ok((!members.is_empty()).then(|| {
        Removal::done().kept(
            format!("what the namespaces of cluster {} share", cx.owner.cluster),
            format!("still used by namespaces {}", members.join(", ")),
        )
    }))
}

/// A cluster that no longer exists took every object with it: their records go.
async fn forget_cluster_objects(cx: &Context<'_>, view: &ClusterView) -> Result<Removal> {
    for record in view.records.iter().filter(|r| r.kind.is_namespaced_kubernetes()) {
        cx.ledger.forget(record.place(), record.kind, &record.key).await?;
    }
    for record in view.shared.iter().filter(|r| r.kind.is_shared_kubernetes()) {
        cx.ledger.forget(record.place(), record.kind, &record.key).await?;
    }
    Ok(Removal::done())
}
