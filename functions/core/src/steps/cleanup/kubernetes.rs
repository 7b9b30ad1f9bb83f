//! The `kubernetes` cleanup action: the namespace's recorded Kubernetes objects, then, when the
//! ledger shows no other namespace of this deployment on the cluster (decided under the cluster's
//! lease, which this cleanup then keeps until `finish`), the objects the namespaces share, the
//! workflow's own RBAC last of all (deleting it ends the workflow's rights there). Nothing is
//! looked up in a cluster the ledger records nothing of ours on, and a cluster that is gone took
//! its objects with it.

use aws_sdk_eks::types::ClusterStatus;

use super::last;
use crate::aws;
use crate::clients::AwsClients;
use crate::error::{Result, WorkflowError};
use crate::k8s::Kube;
use crate::ledger::{ClusterView, Ledger, NamespaceView};
use crate::ownership::Owner;
use crate::resources::kube_object::Sweep;
use crate::resources::{CleanupScope, Kind, Removal, collector, logging, namespace, rbac, storage_objects, workload};
use crate::settings::Settings;

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
    let (clients, ledger, owner) = (cx.clients, cx.ledger, cx.owner);
    let removal = collector::remove_per_namespace(clients, kube, ledger, owner, cx.view, cx.scope).await?;
    let removal = removal.and(workload::remove(&sweep).await?);
    if !removal.done {
        return Ok(removal);
    }
    let removal = removal.and(namespace::remove(&sweep).await?);
    // Once the namespace is no longer ours, the cluster's collector no longer reports it.
    let view = ledger.namespace(&owner.cluster, &owner.namespace).await?;
    if removal.done && view.of_kind(Kind::Namespace).next().is_none() {
        let region = clients.config.region().map(|r| r.to_string()).unwrap_or_default();
        let target = collector::Target {
            settings: &cx.settings.insights,
            region: &region,
        };
        collector::forget_namespace(kube, ledger, &owner.cluster, &owner.namespace, target).await?;
    }
    Ok(removal)
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
    let what = format!("what the namespaces of cluster {cluster} share");
    if let Some(kept) = last::claim(cx, &what, "remove-shared").await? {
        return Ok(removal.and(kept));
    }
    let removal = removal.and(collector::remove(kube, cx.ledger, cluster).await?);
    let removal = removal.and(storage_objects::remove(kube, cx.ledger, cluster).await?);
    let removal = removal.and(logging::remove(kube, cx.ledger, cluster).await?);
    if !removal.done {
        return Ok(removal);
    }
    Ok(removal.and(rbac::remove(kube, cx.ledger, cluster).await?))
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
