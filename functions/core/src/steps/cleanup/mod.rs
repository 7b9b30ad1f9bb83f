//! epic06: deletes what the workflow created for one cluster namespace, in dependency order, one
//! action per resource kind (`kubernetes` first, then the AWS resources), and `finish` to report.
//! What may be deleted is what the ownership ledger records for the namespace (`crate::ledger`),
//! so cleanup needs no state from the provisioning run: rollback, the TTL reaper, the CLI and the
//! console start it with a [`CleanupRequest`]. Whatever the ledger does not record (whatever its
//! tags say), or (in a rollback) another run created, is reported as kept, never deleted; a
//! rollback or TTL cleanup that a later run has superseded deletes nothing at all. The state
//! machine attempts every action even when an earlier one failed, and `finish` fails the execution
//! at the end, listing what is left and why.

mod access;
mod finish;
mod kubernetes;
mod last;
pub mod request;

pub use finish::{ActionSummary, CleanupSummary, finish};
pub use request::{CleanupRequest, Started, start_cleanup};

use crate::clients::AwsClients;
use crate::error::Result;
use crate::lease::Acquire;
use crate::ledger::Ledger;
use crate::ownership::Owner;
use crate::poll::Poll;
use crate::resources::collector::{self, role};
use crate::resources::fargate_profile::{self, Plan};
use crate::resources::{
    CleanupScope, Kind, Removal, access_point, alarms, file_system, kms_key, mount_targets, replication, security_group,
};
use crate::rules;
use crate::settings::Settings;
use crate::steps::profile_lease::{self, QUEUED_POLL_SECONDS};
use crate::steps::{cluster_lease, run_lease};
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
    /// Set by a rollback or a TTL cleanup: delete nothing once a later run has held the namespace.
    #[serde(default)]
    pub generation: Option<u64>,
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
    #[serde(default)]
    pub generation: Option<u64>,
    /// The cleanup execution's ARN: the leases it releases.
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
            let ledger = Ledger::of(&clients.dynamodb, settings)?;
            // Nothing of the namespace left: its expiry goes, so the reaper never starts it again.
            let view = ledger.namespace(&owner.cluster, &owner.namespace).await?;
            if let Some(header) = view.header.as_ref().filter(|_| view.records.is_empty()) {
                ledger
                    .settle_namespace(&owner.cluster, &owner.namespace, header.generation)
                    .await?;
            }
            if let Some(holder) = &event.execution_arn {
                cluster_lease::release(clients, settings, &owner.cluster, holder).await?;
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
    let scope = CleanupScope {
        run: event.run_id.clone(),
        generation: event.generation,
    };
    let ledger = Ledger::of(&clients.dynamodb, settings)?;
    let view = ledger.namespace(&owner.cluster, &owner.namespace).await?;
    let removal = match scope.superseded(view.header.as_ref()) {
        Some(why) => Removal::done().kept(format!("everything of namespace {}", owner.namespace), why),
        None => {
            let holder = event.execution_arn.as_deref().unwrap_or("cleanup");
            let cx = kubernetes::Context {
                clients,
                settings,
                ledger: &ledger,
                owner: &owner,
                view: &view,
                scope: &scope,
                holder,
            };
            act(event.action, &cx).await?
        }
    };
    let mut progress = Poll {
        ready: removal.done,
        next_poll_seconds: if removal.done {
            0
        } else {
            settings.poll_seconds(DELETE_POLL_SECONDS)
        },
        attempt: event.attempt + 1,
        detail: String::new(),
        output: ActionSummary {
            removed: event.removed,
            kept: removal.kept,
        },
    };
    for item in removal.removed {
        if !progress.output.removed.contains(&item) {
            progress.output.removed.push(item);
        }
    }
    progress.detail = detail(&progress);
    tracing::info!(action = ?event.action, run = ?event.run_id, ready = progress.ready, removed = ?progress.output.removed, kept = ?progress.output.kept, "cleanup step");
    Ok(progress)
}

/// One action of the cleanup, on what the ledger records.
async fn act(action: CleanupAction, cx: &kubernetes::Context<'_>) -> Result<Removal> {
    let (clients, ledger, owner, view, scope) = (cx.clients, cx.ledger, cx.owner, cx.view, cx.scope);
    Ok(match action {
        CleanupAction::Kubernetes => kubernetes::remove(cx).await?,
        CleanupAction::Alarms => alarms::remove(&clients.cloudwatch, ledger, owner, view, scope).await?,
        CleanupAction::InsightsRole => {
            // An earlier version's role of the namespace, then the cluster's with its last namespace.
            let own = role::remove_recorded(&clients.iam, ledger, view.of_kind(Kind::CollectorRole), scope).await?;
            let region = clients.config.region().map(|r| r.to_string()).unwrap_or_default();
            let name = role::role_name(ledger.deployment(), &region, &owner.cluster);
            let record = ledger
                .get(
                    crate::ledger::Place::Cluster(&owner.cluster),
                    Kind::CollectorRole,
                    &name,
                )
                .await?;
            if record.is_some()
                && let Some(kept) = last::claim(cx, &format!("IAM role {name}"), "remove-collector-role").await?
            {
                return Ok(own.and(kept));
            }
            own.and(role::remove_cluster_role(&clients.iam, ledger, &name, record.as_ref()).await?)
        }
        CleanupAction::FargateProfile => fargate(cx).await?,
        CleanupAction::MountTargets => mount_targets::remove(&clients.efs, ledger, owner, view, scope).await?,
        CleanupAction::FileSystem => {
            // Its doors and its replication first: EFS refuses to delete a replicated file system.
            let before = access_point::remove(&clients.efs, ledger, owner, view, scope)
                .await?
                .and(replication::remove(&clients.efs, ledger, owner, view, scope).await?);
            if !before.done {
                return Ok(before);
            }
            before.and(file_system::remove(&clients.efs, ledger, owner, view, scope).await?)
        }
        CleanupAction::SecurityGroup => security_group::remove(&clients.ec2, ledger, owner, view, scope).await?,
        CleanupAction::KmsKey => {
            // The file system's record, as the earlier actions left it.
            let view = ledger.namespace(&owner.cluster, &owner.namespace).await?;
            kms_key::remove(
                &clients.kms,
                &clients.efs,
                ledger,
                owner,
                &view,
                cx.settings.kms_deletion_window_days,
            )
            .await?
        }
        CleanupAction::AccessEntry => access::remove(cx).await?,
    })
}

/// The namespace's profile, then (with the cluster's last namespace) the Container Insights
/// collector's: each deleted under the cluster's profile lease (EKS changes one profile of a cluster
/// at a time) and polled until it is gone.
async fn fargate(cx: &kubernetes::Context<'_>) -> Result<Removal> {
    let (clients, settings, owner) = (cx.clients, cx.settings, cx.owner);
    let namespace = fargate_profile::Spec::of_namespace(owner);
    let record = cx.view.find(Kind::FargateProfile, &namespace.name).cloned();
    let own = match fargate_profile::plan_removal(&clients.eks, cx.ledger, &namespace, record, cx.scope).await? {
        Plan::Done(removal) => removal,
        plan => return delete_profile(cx, plan).await,
    };
    let spec = collector::profile::spec(&owner.cluster);
    let record = cx.ledger.get(spec.place, spec.kind, &spec.name).await?;
    let collector = match record {
        None => Removal::done(),
        Some(record) => match last::claim(
            cx,
            &format!("Fargate profile {}", spec.name),
            "remove-collector-profile",
        )
        .await?
        {
            Some(kept) => kept,
            None => {
                let plan = fargate_profile::plan_removal(
                    &clients.eks,
                    cx.ledger,
                    &spec,
                    Some(record),
                    &CleanupScope::default(),
                )
                .await?;
                delete_profile(cx, plan).await?
            }
        },
    };
    if collector.done {
        profile_lease::release(clients, settings, &owner.cluster, Some(cx.holder)).await?;
    }
    Ok(own.and(collector))
}

/// Deletes a profile once this cleanup holds the profile lease (or waits while EKS changes it).
async fn delete_profile(cx: &kubernetes::Context<'_>, plan: Plan) -> Result<Removal> {
    let (clients, settings, cluster) = (cx.clients, cx.settings, &cx.owner.cluster);
    let name = match plan {
        Plan::Done(removal) => return Ok(removal),
        Plan::Wait => return Ok(Removal::pending()),
        Plan::Delete(name) => name,
    };
    if let Acquire::Held(held) =
        profile_lease::acquire(clients, settings, cluster, Some(cx.holder), "delete-fargate-profile").await?
    {
        tracing::info!(holder = %held.holder, "queued: another execution is changing a Fargate profile of the cluster");
        return Ok(Removal::pending().kept(
            format!("Fargate profile {name}"),
            format!("queued behind {} ({QUEUED_POLL_SECONDS} s polls)", held.holder),
        ));
    }
    // EKS deletes one profile of a cluster at a time: `FargateProfileBusy` otherwise (retried).
    if crate::aws::eks::delete_fargate_profile(&clients.eks, cluster, &name).await? {
        return Ok(Removal::pending().removed(name));
    }
    Ok(Removal::pending())
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
