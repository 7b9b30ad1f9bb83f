//! One Fargate profile change per cluster. EKS refuses CreateFargateProfile and
//! DeleteFargateProfile (`ResourceInUseException`) while another profile of the cluster is
//! CREATING or DELETING, and a change takes 2–5 minutes: more than a retry budget should absorb.
//! So before either call an execution takes the cluster's lease (`fargate#<cluster>`); while
//! another running execution holds it, the step reports "not yet" and is polled again, its wait
//! bounded by the poll cap. The lease is released once the profile is ACTIVE (or failed) or gone.
//! A holder that failed or crashed is taken over as soon as its execution has ended (releasing it
//! earlier, while its profile may still be CREATING, would only invite `ResourceInUseException`),
//! and every lease expires after [`PROFILE_LEASE`] anyway.

use crate::clients::AwsClients;
use crate::error::{Result, WorkflowError};
use crate::lease::{Acquire, Claim, LeaseKey};
use crate::settings::Settings;
use crate::steps::run_lease::{acquire_key, release_key};
use std::time::Duration;

/// Three times the slowest profile change EKS makes: a holder that is still running well past it
/// has lost track of its profile, and the next change may go ahead.
pub const PROFILE_LEASE: Duration = Duration::from_secs(15 * 60);

/// Seconds between polls while another execution changes a profile of the cluster.
pub const QUEUED_POLL_SECONDS: u32 = 30;

/// Takes (or extends) the cluster's lease for `holder`, the execution ARN the state machine
/// passes. `Held` names the execution that is changing a profile now.
pub async fn acquire(
    clients: &AwsClients,
    settings: &Settings,
    cluster: &str,
    holder: Option<&str>,
    purpose: &str,
) -> Result<Acquire> {
    let holder = match (holder, &settings.lease_table_name) {
        (Some(holder), _) => holder,
        // No lease table (library tests): nothing is written, so no holder is needed.
        (None, None) => "",
        (None, Some(_)) => {
            return Err(WorkflowError::invalid(
                "executionArn",
                "is required to take the cluster's Fargate profile lease (the state machine passes $$.Execution.Id)",
            ));
        }
    };
    let claim = Claim {
        holder,
        purpose,
        duration: PROFILE_LEASE,
    };
    acquire_key(clients, settings, &LeaseKey::fargate_profiles(cluster), &claim).await
}

/// Releases the cluster's lease if `holder` has it; without a holder nothing was taken.
pub async fn release(clients: &AwsClients, settings: &Settings, cluster: &str, holder: Option<&str>) -> Result<()> {
    match holder {
        Some(holder) => release_key(clients, settings, &LeaseKey::fargate_profiles(cluster), holder).await,
        None => Ok(()),
    }
}
