//! epic06: deletes what the workflow created for one cluster namespace, in dependency order, one
//! action per resource kind (`kubernetes` first, then the AWS resources), and `finish` to report.
//! Resources are found by their ownership tags, so cleanup needs no state from the provisioning
//! run: rollback, the TTL reaper, the CLI and the console start it with a [`CleanupRequest`].
//! Whatever lacks our tags, or (in a rollback) was created by another run, is reported as kept,
//! never deleted. The state machine attempts every action even when an earlier one failed, and
//! `finish` fails the execution at the end, listing what is left and why.

mod access;
mod alarms;
mod efs;
mod eks;
mod finish;
mod insights_role;
mod kms;
mod kubernetes;
pub mod request;

pub use finish::{ActionSummary, CleanupSummary, finish};
pub use request::{CleanupRequest, Started, start_cleanup};

use crate::clients::AwsClients;
use crate::error::Result;
use crate::input::rules;
use crate::lease::Acquire;
use crate::ownership::{Owner, Scope};
use crate::poll::Poll;
use crate::settings::{AccessEntryMode, Settings};
use crate::steps::run_lease;
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
    Alarms,
    InsightsRole,
    FargateProfile,
    MountTargets,
    FileSystem,
    SecurityGroup,
    KmsKey,
    AccessEntry,
}

impl CleanupAction {
    /// Every action, in the order the cleanup state machine runs them.
    pub const ALL: [CleanupAction; 9] = [
        CleanupAction::Kubernetes,
        CleanupAction::Alarms,
        CleanupAction::InsightsRole,
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
    /// What the earlier calls of this action removed (the state machine passes the last output's
    /// list back), so the final output accounts for every call.
    #[serde(default)]
    pub removed: Vec<String>,
}

/// One call of an action: ready once nothing of ours (in scope) is left; `output` lists what the
/// action removed over all its calls so far and what it keeps, each with the reason.
pub type CleanupProgress = Poll<ActionSummary>;

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
    let summary = ActionSummary::default();
    Ok(
        match run_lease::acquire(clients, settings, &owner, &event.execution_arn, "cleanup").await? {
            Acquire::Acquired { .. } => Poll::ready(event.attempt, "lease acquired", summary),
            Acquire::Held(held) => Poll::pending(
                event.attempt,
                settings.poll_seconds(LEASE_POLL_SECONDS),
                format!("lease held by {} until {}", held.holder, held.expires_at),
                summary,
            ),
        },
    )
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
        CleanupAction::Alarms => alarms::alarms(&clients.cloudwatch, &owner, &scope).await?,
        CleanupAction::InsightsRole => insights_role::remove(&clients.iam, &owner, &scope).await?,
        CleanupAction::Kubernetes => kubernetes::remove(clients, settings, &owner, &scope).await?,
        CleanupAction::FargateProfile => {
            eks::fargate_profile(clients, settings, &owner, &scope, event.execution_arn.as_deref()).await?
        }
        CleanupAction::MountTargets => efs::mount_targets(&clients.efs, &owner, &scope).await?,
        CleanupAction::FileSystem => efs::file_system(&clients.efs, &owner, &scope).await?,
        CleanupAction::SecurityGroup => efs::security_groups(&clients.ec2, &clients.efs, &owner, &scope).await?,
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
        CleanupAction::AccessEntry => access::remove(&clients.eks, &clients.efs, &owner, &scope).await?,
    };
    progress.attempt = event.attempt + 1;
    // An action that knows better (waiting for a lease) sets its own interval.
    if !progress.ready && progress.next_poll_seconds == 0 {
        progress.next_poll_seconds = settings.poll_seconds(DELETE_POLL_SECONDS);
    }
    let mut removed = event.removed;
    for item in std::mem::take(&mut progress.output.removed) {
        if !removed.contains(&item) {
            removed.push(item);
        }
    }
    progress.output.removed = removed;
    progress.detail = detail(&progress);
    tracing::info!(action = ?event.action, run = ?event.run_id, ready = progress.ready, removed = ?progress.output.removed, kept = ?progress.output.kept, "cleanup step");
    Ok(progress)
}

fn detail(progress: &CleanupProgress) -> String {
    let state = if progress.ready { "done" } else { "deleting" };
    let list = |items: &[String]| {
        if items.is_empty() {
            "nothing".to_string()
        } else {
            items.join(", ")
        }
    };
    format!(
        "{state}; removed {}; kept {}",
        list(&progress.output.removed),
        list(&progress.output.kept)
    )
}

fn progress(ready: bool, removed: Vec<String>, kept: Vec<String>) -> CleanupProgress {
    Poll {
        ready,
        next_poll_seconds: 0,
        attempt: 0,
        detail: String::new(),
        output: ActionSummary { removed, kept },
    }
}

fn done(removed: Vec<String>, kept: Vec<String>) -> CleanupProgress {
    progress(true, removed, kept)
}

fn pending(removed: Vec<String>) -> CleanupProgress {
    progress(false, removed, vec![])
}
