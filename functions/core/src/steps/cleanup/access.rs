//! The `access-entry` cleanup action: the workflow's access entry on the cluster goes (and with it
//! any bootstrap grant still associated) only when the ledger shows no other namespace of this deployment
//! provisioned or being provisioned there and no Kubernetes object of ours left on the cluster: while
//! one is recorded, a later cleanup needs the entry to reach and remove it. Decided and done under
//! the cluster's lease.

use super::kubernetes::Context;
use crate::error::Result;
use crate::lease::Acquire;
use crate::ledger::ClusterView;
use crate::resources::{Kind, Removal, access_entry, shared};
use crate::steps::cluster_lease;

pub async fn remove(cx: &Context<'_>) -> Result<Removal> {
    let cluster = &cx.owner.cluster;
    let view = cx.ledger.cluster(cluster).await?;
    if !view.shared.iter().any(|r| r.kind == Kind::AccessEntry) {
        return Ok(Removal::done());
    }
    if let Some(kept) = needed(cx, &view).await? {
        return Ok(kept);
    }
    if let Acquire::Held(held) =
        cluster_lease::acquire(cx.clients, cx.settings, cluster, cx.holder, "remove-access").await?
    {
        return Ok(Removal::pending().kept(
            format!("the workflow's access to cluster {cluster}"),
            format!("waiting for {}, which holds the cluster's lease", held.holder),
        ));
    }
    let view = cx.ledger.cluster(cluster).await?;
    if let Some(kept) = needed(cx, &view).await? {
        cluster_lease::release(cx.clients, cx.settings, cluster, cx.holder).await?;
        return Ok(kept);
    }
    let mut removal = Removal::done();
    for entry in view.shared.iter().filter(|r| r.kind == Kind::AccessEntry) {
        if access_entry::remove(&cx.clients.eks, cx.ledger, cluster, entry).await? {
            removal = removal.removed(entry.key.clone());
        }
    }
    // A grant goes with the entry it was associated with.
    for grant in view.shared.iter().filter(|r| r.kind == Kind::BootstrapGrant) {
        cx.ledger
            .forget(grant.place(), Kind::BootstrapGrant, &grant.key)
            .await?;
    }
    Ok(removal)
}

/// Why the access stays: another namespace needs it, or Kubernetes objects of ours remain.
async fn needed(cx: &Context<'_>, view: &ClusterView) -> Result<Option<Removal>> {
    let what = format!("the workflow's access to cluster {}", cx.owner.cluster);
    let members = shared::members(&cx.clients.sfn, view, &cx.owner.namespace).await?;
    if !members.is_empty() {
        return Ok(Some(
            Removal::done().kept(what, format!("still used by namespaces {}", members.join(", "))),
        ));
    }
    let objects = shared::kubernetes_objects(view);
    Ok((!objects.is_empty()).then(|| {
        Removal::done().kept(
            what,
            format!(
                "Kubernetes objects of ours are still recorded ({}); a later cleanup needs the access to remove them",
                objects.join(", ")
            ),
        )
    }))
}
