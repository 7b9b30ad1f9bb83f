//! Whether the cleanup's namespace is the last of this deployment's on its cluster: what the
//! namespaces share goes only then. Decided under the cluster's lease, which the cleanup then keeps
//! until `finish`, so no provisioning run joins the cluster while its shared resources are removed.

use super::kubernetes::Context;
use crate::error::Result;
use crate::lease::Acquire;
use crate::ledger::ClusterView;
use crate::resources::{Removal, shared};
use crate::steps::cluster_lease;

/// `None` when no other namespace needs `what` and this cleanup holds the cluster's lease;
/// otherwise why `what` stays (for now).
pub async fn claim(cx: &Context<'_>, what: &str, purpose: &str) -> Result<Option<Removal>> {
    let cluster = &cx.owner.cluster;
    let view = cx.ledger.cluster(cluster).await?;
    if let Some(kept) = still_used(cx, &view, what).await? {
        return Ok(Some(kept));
    }
    if let Acquire::Held(held) = cluster_lease::acquire(cx.clients, cx.settings, cluster, cx.holder, purpose).await? {
        return Ok(Some(Removal::pending().kept(
            what,
            format!("waiting for {}, which holds the cluster's lease", held.holder),
        )));
    }
    // Again under the lease: a run may have joined since the first look.
    let view = cx.ledger.cluster(cluster).await?;
    if let Some(kept) = still_used(cx, &view, what).await? {
        cluster_lease::release(cx.clients, cx.settings, cluster, cx.holder).await?;
        return Ok(Some(kept));
    }
    Ok(None)
}

/// Why `what` stays: another namespace of this deployment still needs it, or this one does (a
/// rollback keeps what earlier runs made in it).
async fn still_used(cx: &Context<'_>, view: &ClusterView, what: &str) -> Result<Option<Removal>> {
    let own = &cx.owner.namespace;
    if view
        .records
        .iter()
        .any(|r| r.namespace.as_ref() == Some(own) && r.kind.is_namespaced_kubernetes())
    {
        return Ok(Some(
            Removal::done().kept(what, format!("namespace {own} keeps Kubernetes objects of ours")),
        ));
    }
    let members = shared::members(&cx.clients.sfn, view, own).await?;
    Ok((!members.is_empty())
        .then(|| Removal::done().kept(what, format!("still used by namespaces {}", members.join(", ")))))
}
