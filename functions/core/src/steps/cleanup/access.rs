//! The `access-entry` cleanup action: the workflow's access entry on the cluster goes (and with it
//! any bootstrap grant still associated) only when the ledger shows no other namespace of this deployment
//! provisioned or being provisioned there and no Kubernetes object of ours left on the cluster: while
//! one is recorded, a later cleanup needs the entry to reach and remove it. Decided and done under
//! the cluster's lease.

use super::kubernetes::Context;
use super::last;
use crate::error::Result;
use crate::resources::{Kind, Removal, access_entry, shared};

pub async fn remove(cx: &Context<'_>) -> Result<Removal> {
    let cluster = &cx.owner.cluster;
    let view = cx.ledger.cluster(cluster).await?;
    if !view.shared.iter().any(|r| r.kind == Kind::AccessEntry) {
        return Ok(Removal::done());
    }
    let what = format!("the workflow's access to cluster {cluster}");
    // While Kubernetes objects of ours are recorded, a later cleanup needs the access to remove them.
    let objects = shared::kubernetes_objects(&view);
    if !objects.is_empty() {
        let members = shared::members(&cx.clients.sfn, &view, &cx.owner.namespace).await?;
        let why = if members.is_empty() {
            format!(
                "Kubernetes objects of ours are still recorded ({}); a later cleanup needs the access to remove them",
                objects.join(", ")
            )
        } else {
            format!("still used by namespaces {}", members.join(", "))
        };
        return Ok(Removal::done().kept(what, why));
    }
    if let Some(kept) = last::claim(cx, &what, "remove-access").await? {
        return Ok(kept);
    }
    let view = cx.ledger.cluster(cluster).await?;
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
