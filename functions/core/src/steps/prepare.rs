//! `prepare`: normalise and validate the input, wait for the cluster, run the doctor (network,
//! DNS, free addresses, authentication mode, endpoint, pod execution role, resources under our
//! names that the workflow did not create), and make sure the workflow can reach its Kubernetes
//! API. Creates nothing but (at most) an access entry, and only once every check passed.

use crate::aws;
use crate::clients::AwsClients;
use crate::error::{Result, WorkflowError};
use crate::input::{Trigger, parse_execution_input};
use crate::lease::Acquire;
use crate::ledger::{Creator, Ledger};
use crate::ownership::Owner;
use crate::poll::Poll;
use crate::resources::{Recorder, access_entry};
use crate::rules;
use crate::run::Run;
use crate::settings::Settings;
use crate::steps::bootstrap::{self, BootstrapEvent, BootstrapOutput};
use crate::steps::doctor::{DoctorEvent, DoctorReport};
use crate::steps::plan::{self, Plan};
use crate::steps::{cluster_lease, doctor, run_lease};
use aws_sdk_eks::types::ClusterStatus;
use jiff::{Timestamp, ToSpan};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// How long EKS typically takes to create a cluster, in seconds between polls.
const CLUSTER_POLL_SECONDS: u32 = 30;

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PrepareEvent {
    /// The provisioning execution's name (`$$.Execution.Name`).
    pub run_id: String,
    /// The execution's start (`$$.Execution.StartTime`): the TTL counts from it, so every poll of
    /// `prepare` computes the same `expiresAt`.
    #[serde(default)]
    pub started_at: Option<String>,
    /// The execution input, as typed in the console or delivered by EventBridge.
    pub input: Value,
    /// The execution's ARN (`$$.Execution.Id`): the holder of the namespace's lease.
    #[serde(default)]
    pub execution_arn: Option<String>,
    #[serde(default)]
    pub attempt: u32,
}

/// The poll's `output`: `status` says which.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "camelCase")]
pub enum PrepareOutput {
    /// The cluster is usable (the poll is ready): every later step works from `run`.
    Ready { run: Box<Run> },
    /// The cluster is still being created: poll again.
    #[serde(rename_all = "camelCase")]
    Waiting { cluster_status: String },
    /// The cleanup of the cluster's last namespace (`holder`) is removing what the namespaces
    /// share: poll again once it is done.
    WaitingForCluster { holder: String },
    /// The input asks for nothing (the poll is ready); the execution ends successfully.
    Skipped { reason: String },
    /// A dry run (the poll is ready): the doctor's report and the plan; nothing was changed and
    /// the execution ends successfully with this as its output.
    Planned { doctor: Box<DoctorReport>, plan: Box<Plan> },
}

/// The `prepare` function's event: a run to prepare (no `action`), the doctor, or a bootstrap
/// action.
#[derive(Clone, Debug, Deserialize)]
#[serde(try_from = "Value")]
pub enum PrepareFunctionEvent {
    Prepare(PrepareEvent),
    Doctor(DoctorEvent),
    Bootstrap(Box<BootstrapEvent>),
}

impl TryFrom<Value> for PrepareFunctionEvent {
    type Error = serde_json::Error;

    fn try_from(event: Value) -> std::result::Result<Self, Self::Error> {
        match event.get("action") {
            Some(Value::String(action)) if action == "doctor" => serde_json::from_value(event).map(Self::Doctor),
            Some(_) => serde_json::from_value(event).map(|e| Self::Bootstrap(Box::new(e))),
            None => serde_json::from_value(event).map(Self::Prepare),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum PrepareFunctionOutput {
    Prepared(Poll<PrepareOutput>),
    Doctor(Poll<DoctorReport>),
    Bootstrap(Poll<BootstrapOutput>),
}

/// The `prepare` function.
pub async fn handle(
    clients: &AwsClients,
    settings: &Settings,
    event: PrepareFunctionEvent,
) -> Result<PrepareFunctionOutput> {
    match event {
        PrepareFunctionEvent::Prepare(event) => prepare(clients, settings, event)
            .await
            .map(PrepareFunctionOutput::Prepared),
        PrepareFunctionEvent::Doctor(event) => doctor::handle(clients, settings, event)
            .await
            .map(PrepareFunctionOutput::Doctor),
        PrepareFunctionEvent::Bootstrap(event) => bootstrap::handle(clients, settings, *event)
            .await
            .map(PrepareFunctionOutput::Bootstrap),
    }
}

/// Prepares a run: see the module documentation.
pub async fn prepare(clients: &AwsClients, settings: &Settings, event: PrepareEvent) -> Result<Poll<PrepareOutput>> {
    let attempt = event.attempt;
    let (request, dry_run) = match parse_execution_input(&event.input, settings)? {
        Trigger::Provision(request) => (*request, false),
        Trigger::Plan(request) => (*request, true),
        Trigger::Skip { reason } => {
            tracing::info!(%reason, "nothing to provision");
            return Ok(Poll::ready(attempt, reason.clone(), PrepareOutput::Skipped { reason }));
        }
    };
    rules::run_id("runId", &event.run_id)?;
    let expires_at = expires_at(request.ttl.as_deref(), event.started_at.as_deref())?;
    let cluster = aws::eks::cluster(&clients.eks, &request.cluster_name).await?;
    let status = cluster.status().cloned().unwrap_or(ClusterStatus::Creating);
    match status {
        ClusterStatus::Active | ClusterStatus::Updating => {}
        ClusterStatus::Creating | ClusterStatus::Pending => {
            return Ok(Poll::pending(
                attempt,
                settings.poll_seconds(CLUSTER_POLL_SECONDS),
                format!("cluster {} is {}", request.cluster_name, status.as_str()),
                PrepareOutput::Waiting {
                    cluster_status: status.as_str().to_string(),
                },
            ));
        }
        other => {
            return Err(WorkflowError::ClusterNotActive {
                cluster: request.cluster_name.clone(),
                status: other.as_str().to_string(),
            });
        }
    }
    let examination = doctor::examine(clients, settings, &request, &cluster).await?;
    if dry_run {
        // Before the lease and the access entry: a plan writes nothing.
        let plan = plan::plan(clients, settings, &request, &examination).await?;
        let detail = format!(
            "plan of {} resources; doctor: {}",
            plan.resources.len(),
            if examination.report.healthy {
                "healthy"
            } else {
                "checks failed"
            }
        );
        let output = PrepareOutput::Planned {
            doctor: Box::new(examination.report),
            plan: Box::new(plan),
        };
        return Ok(Poll::ready(attempt, detail, output));
    }
    let cleared = examination.into_cleared()?;
    let owner = Owner::new(&request.cluster_name, &request.namespace);
    let holder = event.execution_arn.as_deref().unwrap_or(&event.run_id);
    run_lease::acquire_or_fail(clients, settings, &owner, holder, "provision").await?;
    let ledger = Ledger::of(&clients.dynamodb, settings)?;
    // Joined under the cluster's lease: the cleanup of the cluster's last namespace decides to
    // remove what the namespaces share under it, and must see this run.
    if let Acquire::Held(held) =
        cluster_lease::acquire(clients, settings, &owner.cluster, holder, "join-cluster").await?
    {
        return Ok(Poll::pending(
            attempt,
            settings.poll_seconds(cluster_lease::CLUSTER_POLL_SECONDS),
            format!(
                "waiting for {}: the cleanup of its last namespace is removing what its namespaces share",
                held.holder
            ),
            PrepareOutput::WaitingForCluster { holder: held.holder },
        ));
    }
    let generation = ledger
        .begin_run(
            &owner.cluster,
            &owner.namespace,
            &event.run_id,
            event.execution_arn.as_deref(),
            expires_at.as_deref(),
        )
        .await?;
    cluster_lease::release(clients, settings, &owner.cluster, holder).await?;
    let creator = Creator {
        run_id: event.run_id.clone(),
        generation,
    };
    let principal = access_entry::cluster_principal(&clients.sts, settings.cluster_access_role_arn.as_deref()).await?;
    let tags = owner.tags(
        &format!("efs-fargate-workflow {}", request.namespace),
        &event.run_id,
        &settings.deployment,
    );
    let recorder = Recorder {
        ledger: &ledger,
        owner: &owner,
        creator: &creator,
    };
    let access = access_entry::apply(&clients.eks, recorder, principal, cleared.access, tags).await?;
    let network = cleared.network;
    let run = Run {
        run_id: event.run_id,
        generation,
        deployment: settings.deployment.clone(),
        request,
        expires_at,
        network,
        access,
    };
    tracing::info!(
        cluster = %run.request.cluster_name,
        vpc = %run.network.vpc_id,
        private_subnets = run.network.private_subnets.len(),
        "cluster ready"
    );
    let detail = format!(
        "cluster {} ready: {} private subnets in {}",
        run.request.cluster_name,
        run.network.private_subnets.len(),
        run.network.vpc_id
    );
    Ok(Poll::ready(
        attempt,
        detail,
        PrepareOutput::Ready { run: Box::new(run) },
    ))
}

fn expires_at(ttl: Option<&str>, started_at: Option<&str>) -> Result<Option<String>> {
    let Some(ttl) = ttl else { return Ok(None) };
    let seconds = rules::ttl_seconds("ttl", ttl)?;
    let start = match started_at {
        Some(text) => text
            .parse::<Timestamp>()
            .map_err(|e| WorkflowError::invalid("startedAt", format!("must be an RFC 3339 instant: {e}")))?,
        None => Timestamp::now(),
    };
    let expiry = start
        .checked_add(seconds.seconds())
        .map_err(|e| WorkflowError::invalid("ttl", e.to_string()))?;
    Ok(Some(expiry.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expiry_counts_from_the_execution_start() {
        let expiry = expires_at(Some("PT8H"), Some("2026-11-25T10:00:00.123Z")).unwrap();
        assert_eq!(expiry.as_deref(), Some("2026-11-25T18:00:00Z"));
        assert_eq!(expires_at(None, None).unwrap(), None);
    }
}
