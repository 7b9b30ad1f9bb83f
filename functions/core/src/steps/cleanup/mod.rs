//! epic06: deletes what the workflow created for one cluster namespace, in dependency order, one
//! action per resource kind (`kubernetes` first, then the AWS resources), and `finish` to report.
//! Resources are found by their ownership tags, so cleanup needs no state from the provisioning
//! run: rollback, the TTL reaper, the CLI and the console start it with a [`CleanupRequest`].
//! Whatever lacks our tags, or (in a rollback) was created by another run, is reported as kept,
//! never deleted. The state machine attempts every action even when an earlier one failed, and
//! `finish` fails the execution at the end, listing what is left and why.

mod efs;
mod eks;
mod finish;
mod kms;
mod kubernetes;
pub mod request;
pub mod scope;

pub use finish::{CleanupSummary, finish};
pub use request::{CleanupRequest, Started, start_cleanup};
pub use scope::Scope;

use crate::clients::AwsClients;
use crate::error::Result;
use crate::input::rules;
use crate::lease::Acquire;
use crate::ownership::Owner;
use crate::settings::{AccessEntryMode, Settings};
use crate::steps::{access, run_lease};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

/// Seconds between polls while EKS or EFS finish deleting.
const DELETE_POLL_SECONDS: u32 = 10;
/// Seconds between polls while a provisioning run holds the namespace's lease.
const LEASE_POLL_SECONDS: u32 = 30;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CleanupAction {
    Kubernetes,
    FargateProfile,
    MountTargets,
    FileSystem,
    SecurityGroup,
    KmsKey,
    AccessEntry,
}

impl CleanupAction {
    /// Every action, in the order the cleanup state machine runs them.
    pub const ALL: [CleanupAction; 7] = [
        CleanupAction::Kubernetes,
        CleanupAction::FargateProfile,
        CleanupAction::MountTargets,
        CleanupAction::FileSystem,
        CleanupAction::SecurityGroup,
        CleanupAction::KmsKey,
        CleanupAction::AccessEntry,
    ];
}

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CleanupEvent {
    pub action: CleanupAction,
    pub cluster_name: String,
    pub namespace: String,
    /// Set by a rollback: delete only what this run created.
    #[serde(default)]
    pub run_id: Option<String>,
    /// The cleanup execution's ARN: the holder of the cluster's Fargate profile lease.
    #[serde(default)]
    pub execution_arn: Option<String>,
    #[serde(default)]
    pub attempt: u32,
}

/// Each action is called again until `done`; it deletes what is there and reports what is left.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CleanupProgress {
    pub done: bool,
    pub next_poll_seconds: u32,
    pub attempt: u32,
    /// What this call deleted (or started deleting).
    pub removed: Vec<String>,
    /// What was found but stays (not ours, or not this run's in a rollback), each with the reason.
    pub kept: Vec<String>,
}

/// The `finish` event: every action's last result (its progress, or the `{Error, Cause}` the state
/// machine caught).
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FinishEvent {
    pub action: FinishAction,
    pub cluster_name: String,
    pub namespace: String,
    #[serde(default)]
    pub run_id: Option<String>,
    /// The cleanup execution's ARN: the lease it releases.
    #[serde(default)]
    pub execution_arn: Option<String>,
    pub outcomes: BTreeMap<String, Value>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum FinishAction {
    Finish,
}

/// The `lease` event: the cleanup's first step takes the namespace's lease, waiting while a
/// provisioning run (or another cleanup) that is still running holds it.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LeaseEvent {
    pub action: LeaseAction,
    pub cluster_name: String,
    pub namespace: String,
    pub execution_arn: String,
    #[serde(default)]
    pub attempt: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum LeaseAction {
    Lease,
}

/// The `cleanup` function's event: one action, or `finish` (told apart by `action`, so a bad
/// event is reported against the shape it was meant to have).
#[derive(Clone, Debug, Deserialize)]
#[serde(try_from = "Value")]
pub enum CleanupFunctionEvent {
    Lease(LeaseEvent),
    Action(CleanupEvent),
    Finish(FinishEvent),
}

impl TryFrom<Value> for CleanupFunctionEvent {
    type Error = serde_json::Error;

    fn try_from(event: Value) -> std::result::Result<Self, Self::Error> {
        match event.get("action").and_then(Value::as_str) {
            Some("lease") => serde_json::from_value(event).map(Self::Lease),
            Some("finish") => serde_json::from_value(event).map(Self::Finish),
            _ => serde_json::from_value(event).map(Self::Action),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum CleanupFunctionOutput {
    Progress(CleanupProgress),
    Summary(CleanupSummary),
}

/// The `cleanup` function.
pub async fn handle(
    clients: &AwsClients,
    settings: &Settings,
    event: CleanupFunctionEvent,
) -> Result<CleanupFunctionOutput> {
    match event {
        CleanupFunctionEvent::Action(event) => cleanup(clients, settings, event)
            .await
            .map(CleanupFunctionOutput::Progress),
        CleanupFunctionEvent::Lease(event) => lease(clients, settings, event)
            .await
            .map(CleanupFunctionOutput::Progress),
        CleanupFunctionEvent::Finish(event) => {
            let owner = Owner::new(&event.cluster_name, &event.namespace);
            if let Some(holder) = &event.execution_arn {
                run_lease::release(clients, settings, &owner, holder).await?;
            }
            finish(event).map(CleanupFunctionOutput::Summary)
        }
    }
}

/// Takes the namespace's lease for this cleanup; while a running execution holds it, reports
/// who and asks to be called again.
pub async fn lease(clients: &AwsClients, settings: &Settings, event: LeaseEvent) -> Result<CleanupProgress> {
    rules::cluster_name("clusterName", &event.cluster_name)?;
    rules::namespace("namespace", &event.namespace)?;
    let owner = Owner::new(&event.cluster_name, &event.namespace);
    let mut progress = match run_lease::acquire(clients, settings, &owner, &event.execution_arn, "cleanup").await? {
        Acquire::Acquired { .. } => done(vec![], vec![]),
        Acquire::Held(held) => CleanupProgress {
            next_poll_seconds: settings.poll_seconds(LEASE_POLL_SECONDS),
            kept: vec![format!("lease held by {} until {}", held.holder, held.expires_at)],
            ..CleanupProgress::default()
        },
    };
    progress.attempt = event.attempt + 1;
    Ok(progress)
}

pub async fn cleanup(clients: &AwsClients, settings: &Settings, event: CleanupEvent) -> Result<CleanupProgress> {
    rules::cluster_name("clusterName", &event.cluster_name)?;
    rules::namespace("namespace", &event.namespace)?;
    if let Some(run_id) = &event.run_id {
        rules::run_id("runId", run_id)?;
    }
    let owner = Owner::new(&event.cluster_name, &event.namespace);
    let scope = Scope::of(event.run_id.as_deref());
    let mut progress = match event.action {
        CleanupAction::Kubernetes => kubernetes::remove(clients, settings, &owner, &scope).await?,
        CleanupAction::FargateProfile => {
            eks::fargate_profile(clients, settings, &owner, &scope, event.execution_arn.as_deref()).await?
        }
        CleanupAction::MountTargets => efs::mount_targets(&clients.efs, &owner, &scope).await?,
        CleanupAction::FileSystem => efs::file_system(&clients.efs, &owner, &scope).await?,
        CleanupAction::SecurityGroup => efs::security_groups(&clients.ec2, &owner, &scope).await?,
        CleanupAction::KmsKey => {
            kms::keys(
                &clients.kms,
                &clients.efs,
                &owner,
                &scope,
                settings.kms_deletion_window_days,
            )
            .await?
        }
        // Skipped access entries (local stack only) were never created.
        CleanupAction::AccessEntry if settings.access_entry_mode == AccessEntryMode::Skip => done(vec![], vec![]),
        CleanupAction::AccessEntry => {
            let (removed, kept) = access::remove_access(&clients.eks, &clients.efs, &owner, &scope).await?;
            done(removed, kept)
        }
    };
    progress.attempt = event.attempt + 1;
    // An action that knows better (waiting for a lease) sets its own interval.
    if !progress.done && progress.next_poll_seconds == 0 {
        progress.next_poll_seconds = settings.poll_seconds(DELETE_POLL_SECONDS);
    }
    tracing::info!(action = ?event.action, run = ?event.run_id, done = progress.done, removed = ?progress.removed, kept = ?progress.kept, "cleanup step");
    Ok(progress)
}

fn done(removed: Vec<String>, kept: Vec<String>) -> CleanupProgress {
    CleanupProgress {
        done: true,
        removed,
        kept,
        ..Default::default()
    }
}

fn pending(removed: Vec<String>) -> CleanupProgress {
    CleanupProgress {
        done: false,
        removed,
        ..Default::default()
    }
}
