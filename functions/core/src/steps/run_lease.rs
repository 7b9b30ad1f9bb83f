//! One writer per cluster+namespace: the provisioning run holds the namespace's lease from
//! `prepare` to its end, a cleanup holds it from its first step to `finish`, and a rollback hands
//! the failed run's lease straight to the cleanup it starts, so nothing can slip in between. A
//! second provisioning run fails fast with `RunInProgress` (nothing created, nothing deleted); a
//! cleanup waits. A lease whose holder execution has ended is taken over at once, so a crashed or
//! timed-out run never blocks the namespace. Without `LEASE_TABLE_NAME` (some library tests only;
//! every deployment and the local stack set it) no lease is taken.

use crate::clients::AwsClients;
use crate::error::Result;
use crate::lease::{self, Acquire, Claim, HandOver, LeaseKey, Released};
use crate::ownership::Owner;
use crate::settings::Settings;
use jiff::Timestamp;
use std::time::Duration;

/// How long a lease lasts unless released, handed over or taken over from an ended holder: longer
/// than either state machine may run (`TimeoutSeconds`: 4 hours to provision, 8 to clean up).
pub const RUN_LEASE: Duration = Duration::from_secs(9 * 60 * 60);

fn key(owner: &Owner) -> LeaseKey {
    LeaseKey::namespace(&owner.cluster, &owner.namespace)
}

/// Takes (or extends) the namespace's lease for `holder`; `Held` names the other holder.
pub async fn acquire(
    clients: &AwsClients,
    settings: &Settings,
    owner: &Owner,
    holder: &str,
    purpose: &str,
) -> Result<Acquire> {
    let claim = Claim {
        holder,
        purpose,
        duration: RUN_LEASE,
    };
    acquire_key(clients, settings, &key(owner), &claim).await
}

/// [`lease::acquire_or_take_over`] in the configured table; without one, `Acquired` at once.
pub(crate) async fn acquire_key(
    clients: &AwsClients,
    settings: &Settings,
    key: &LeaseKey,
    claim: &Claim<'_>,
) -> Result<Acquire> {
    let Some(table) = settings.lease_table_name.as_deref() else {
        return Ok(Acquire::Acquired {
            expires_at: Timestamp::MAX,
        });
    };
    lease::acquire_or_take_over(&clients.dynamodb, &clients.sfn, table, key, claim, Timestamp::now()).await
}

/// [`acquire`] where another holder is `RunInProgress`.
pub async fn acquire_or_fail(
    clients: &AwsClients,
    settings: &Settings,
    owner: &Owner,
    holder: &str,
    purpose: &str,
) -> Result<()> {
    acquire(clients, settings, owner, holder, purpose)
        .await?
        .or_run_in_progress(&key(owner))
        .map(|_| ())
}

pub async fn release(clients: &AwsClients, settings: &Settings, owner: &Owner, holder: &str) -> Result<()> {
    release_key(clients, settings, &key(owner), holder).await
}

/// [`lease::release`] in the configured table, if any.
pub(crate) async fn release_key(clients: &AwsClients, settings: &Settings, key: &LeaseKey, holder: &str) -> Result<()> {
    let Some(table) = settings.lease_table_name.as_deref() else {
        return Ok(());
    };
    let released = lease::release(&clients.dynamodb, table, key, holder).await?;
    if let Released::HeldByOther(held) = &released {
        tracing::warn!(holder = %held.holder, "the lease had passed to another holder; left with it");
    }
    Ok(())
}

/// Passes the lease from the failed run to the cleanup that rolls it back; `false` when the run
/// no longer held it (the cleanup then waits for it like any other, and a later run that took it
/// has superseded the rollback: see `ledger`).
pub async fn hand_over(clients: &AwsClients, settings: &Settings, owner: &Owner, from: &str, to: &str) -> Result<bool> {
    let Some(table) = settings.lease_table_name.as_deref() else {
        return Ok(true);
    };
    let claim = Claim {
        holder: to,
        purpose: "rollback",
        duration: RUN_LEASE,
    };
    match lease::hand_over(&clients.dynamodb, table, &key(owner), from, &claim, Timestamp::now()).await? {
        HandOver::HandedOver { .. } => Ok(true),
        other => {
            tracing::info!(outcome = ?other, "lease not handed over");
            Ok(false)
        }
    }
}
