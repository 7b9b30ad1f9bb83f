//! The cluster's lease (`cluster#<cluster>`): a provisioning run joins the cluster under it (its
//! generation begins in the ledger), and the cleanup of the cluster's last namespace holds it from
//! deciding to remove the shared objects until its access entry is gone, so no run joins a cluster
//! whose shared objects are being removed, and no cleanup removes what a joining run needs. A holder
//! whose execution has ended is taken over at once.

use crate::clients::AwsClients;
use crate::error::Result;
use crate::lease::{Acquire, Claim, LeaseKey};
use crate::settings::Settings;
use crate::steps::run_lease::{RUN_LEASE, acquire_key, release_key};

/// Seconds between polls while another execution holds the cluster's lease.
pub const CLUSTER_POLL_SECONDS: u32 = 30;

pub async fn acquire(
    clients: &AwsClients,
    settings: &Settings,
    cluster: &str,
    holder: &str,
    purpose: &str,
) -> Result<Acquire> {
    let claim = Claim {
        holder,
        purpose,
        duration: RUN_LEASE,
    };
    acquire_key(clients, settings, &LeaseKey::cluster(cluster), &claim).await
}

pub async fn release(clients: &AwsClients, settings: &Settings, cluster: &str, holder: &str) -> Result<()> {
    release_key(clients, settings, &LeaseKey::cluster(cluster), holder).await
}
