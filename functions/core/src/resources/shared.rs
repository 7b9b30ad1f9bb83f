//! What the namespaces of one cluster share (the access entry, the workflow's RBAC, the CSIDriver
//! and StorageClass, Fargate's logging configuration): recorded in the cluster's part of the
//! ledger, and removed only when the ledger shows no other namespace of this deployment
//! provisioned or being provisioned on the cluster. Provisioning runs join the cluster, and the
//! last namespace's cleanup decides and removes, under the cluster's lease (`steps::cluster_lease`),
//! so neither can slip past the other.

use crate::error::Result;
use crate::lease::{self, HolderStatus};
use crate::ledger::{ClusterView, Header};

/// The namespaces (other than `except`) that still need what the cluster's namespaces share: a
/// run in flight whose execution may still be running, or Kubernetes objects recorded.
pub async fn members(sfn: &aws_sdk_sfn::Client, view: &ClusterView, except: &str) -> Result<Vec<String>> {
    let mut members: Vec<String> = view
        .records
        .iter()
        .filter(|r| r.kind.is_namespaced_kubernetes())
        .filter_map(|r| r.namespace.clone())
        .filter(|namespace| namespace != except)
        .collect();
    for header in view.headers.iter().filter(|h| h.namespace != except) {
        if in_flight(sfn, header).await? {
            members.push(header.namespace.clone());
        }
    }
    members.sort();
    members.dedup();
    Ok(members)
}

/// A run that began and has not ended: its execution is asked, so a crashed run does not hold the
/// cluster's shared objects for ever.
async fn in_flight(sfn: &aws_sdk_sfn::Client, header: &Header) -> Result<bool> {
    if !header.in_flight {
        return Ok(false);
    }
    let Some(execution) = &header.execution_arn else {
        return Ok(true);
    };
    Ok(matches!(
        lease::holder_status(sfn, execution).await?,
        HolderStatus::Running | HolderStatus::Unverifiable
    ))
}

/// Kubernetes objects of ours recorded on the cluster: the access entry stays while any is, so a
/// later cleanup can still reach and remove them.
pub fn kubernetes_objects(view: &ClusterView) -> Vec<String> {
    view.records
        .iter()
        .chain(&view.shared)
        .filter(|r| r.kind.is_namespaced_kubernetes() || r.kind.is_shared_kubernetes())
        .map(|r| match &r.namespace {
            Some(namespace) => format!("{namespace}: {}", r.describe()),
            None => r.describe(),
        })
        .collect()
}
