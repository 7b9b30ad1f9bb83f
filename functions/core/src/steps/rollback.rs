//! How a provisioning run ends. On success its part ends in the ledger (a `ttl` re-stamps the
//! namespace's expiry) and the namespace's lease is released. On failure the cleanup state machine
//! is started for this run (`onFailure: rollback`, the default) or everything is kept for
//! inspection (`retain`; the lease is released). The cleanup carries the run id and the
//! generation the run held, so it removes only what this run created, and nothing at all once a
//! later run has held the namespace: a failed re-run of a provisioned namespace leaves the earlier
//! run's resources and data exactly as they were, and a late rollback never undoes a successor.
//! The cleanup is started before the lease is handed to it, so a lease is never handed to an
//! execution that does not exist (which anyone could take over). A bootstrap grant the run left
//! standing is revoked, as the ledger records it.
//! A run that times out, is stopped, or fails with an error no `Catch` matches (`States.Runtime`)
//! never reaches its `Catch`: EventBridge's "Step Functions Execution Status Change" event for it
//! comes here instead (the template's rule), with the same effect; for a failure that did reach
//! the `Catch`, that event repeats the rollback, which changes nothing the second time.

use crate::clients::AwsClients;
use crate::error::{Result, WorkflowError};
use crate::input::{OnFailure, Trigger, parse_execution_input};
use crate::ledger::Ledger;
use crate::ownership::Owner;
use crate::resources::bootstrap_grant;
use crate::rules;
use crate::run::Run;
use crate::settings::Settings;
use crate::steps::cleanup::{CleanupRequest, Started, start_cleanup};
use crate::steps::expiry::Expiry;
use crate::steps::run_lease;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RollbackEvent {
    /// The provisioning execution's name.
    pub run_id: String,
    pub cluster_name: String,
    pub namespace: String,
    #[serde(default)]
    pub on_failure: OnFailure,
    /// The `Catch` output (`{"Error": ..., "Cause": ...}`), echoed in the cleanup's reason.
    #[serde(default)]
    pub error: Value,
    /// The provisioning execution's ARN (`$$.Execution.Id`): the holder of the namespace's lease.
    #[serde(default)]
    pub execution_arn: Option<String>,
    #[serde(default)]
    pub outcome: RunOutcome,
    /// The run (on success: to apply the TTL rule, see `steps::expiry`).
    #[serde(default)]
    pub run: Option<Box<Run>>,
    /// On success: the execution output the state machine composed, handed back unchanged so the
    /// run ends on this task (no Pass state, one state transition less per run).
    #[serde(default)]
    pub execution_output: Option<Value>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum RunOutcome {
    #[default]
    Failed,
    Succeeded,
}

/// EventBridge's "Step Functions Execution Status Change" event for a provisioning execution.
#[derive(Clone, Debug, Deserialize)]
pub struct ExecutionStatusChange {
    pub detail: StatusChangeDetail,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusChangeDetail {
    pub execution_arn: String,
    pub name: String,
    pub status: String,
    /// The execution input, as a JSON string.
    #[serde(default)]
    pub input: Option<String>,
    /// Why a failed execution failed (`States.Runtime`, ...); null otherwise.
    #[serde(default)]
    pub error: Option<String>,
    #[serde(default)]
    pub cause: Option<String>,
}

/// The `rollback` function's event: from the state machine, or from EventBridge.
#[derive(Clone, Debug, Deserialize)]
#[serde(try_from = "Value")]
pub enum RollbackFunctionEvent {
    RunEnded(RollbackEvent),
    StatusChange(ExecutionStatusChange),
}

impl TryFrom<Value> for RollbackFunctionEvent {
    type Error = serde_json::Error;

    fn try_from(event: Value) -> std::result::Result<Self, Self::Error> {
        if event.get("detail-type").is_some() {
            serde_json::from_value(event).map(Self::StatusChange)
        } else {
            serde_json::from_value(event).map(Self::RunEnded)
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RollbackOutput {
    pub outcome: RunOutcome,
    pub on_failure: OnFailure,
    /// On success: the namespace's expiry after this run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expiry: Option<Expiry>,
    /// The cleanup execution's name, when one was started (or had been).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cleanup_execution_name: Option<String>,
    /// Why nothing of this run is rolled back: a later run has held the namespace since.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub superseded: Option<String>,
    /// [`RollbackEvent::execution_output`], on success.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub execution_output: Option<Value>,
}

/// `rollback-<runId prefix>-<hash>`: one cleanup per failed run, however often the rollback is
/// retried, and distinct for every run: the hash covers cluster, namespace and the whole run id,
/// so long run ids that share a prefix never collide.
pub fn execution_name(owner: &Owner, run_id: &str) -> String {
    let digest = Sha256::digest(format!("{}/{}/{run_id}", owner.cluster, owner.namespace));
    let hash: String = digest.iter().take(8).map(|b| format!("{b:02x}")).collect();
    let prefix: String = run_id.chars().take(80 - "rollback-".len() - 1 - hash.len()).collect();
    format!("rollback-{prefix}-{hash}")
}

/// The `rollback` function.
pub async fn handle(
    clients: &AwsClients,
    settings: &Settings,
    event: RollbackFunctionEvent,
) -> Result<Option<RollbackOutput>> {
    match event {
        RollbackFunctionEvent::RunEnded(event) => rollback(clients, settings, event).await.map(Some),
        RollbackFunctionEvent::StatusChange(change) => match run_of(&change, settings)? {
            Some(event) => rollback(clients, settings, event).await.map(Some),
            None => Ok(None),
        },
    }
}

/// The failed run a status change stands for: executions that timed out, were stopped or failed
/// (a failure that reached its `Catch` was rolled back already; repeating it changes nothing), and
/// only runs that provision something.
fn run_of(change: &ExecutionStatusChange, settings: &Settings) -> Result<Option<RollbackEvent>> {
    let detail = &change.detail;
    if !matches!(detail.status.as_str(), "TIMED_OUT" | "ABORTED" | "FAILED") {
        return Ok(None);
    }
    let input: Value = serde_json::from_str(detail.input.as_deref().unwrap_or("{}"))
        .map_err(|e| WorkflowError::invalid("detail.input", e.to_string()))?;
    let Trigger::Provision(request) = parse_execution_input(&input, settings)? else {
        return Ok(None);
    };
    Ok(Some(RollbackEvent {
        run_id: detail.name.clone(),
        cluster_name: request.cluster_name,
        namespace: request.namespace,
        on_failure: request.on_failure,
        error: serde_json::json!({
            "Error": detail.error.clone().unwrap_or_else(|| format!("States.{}", detail.status)),
            "Cause": detail.cause.clone().unwrap_or_else(|| "the provisioning execution ended without reaching its Catch".into()),
        }),
        execution_arn: Some(detail.execution_arn.clone()),
        outcome: RunOutcome::Failed,
        run: None,
        execution_output: None,
    }))
}

/// The ARN of an execution of `state_machine_arn` by its name.
pub fn execution_arn(state_machine_arn: &str, name: &str) -> String {
    format!(
        "{}:{name}",
        state_machine_arn.replacen(":stateMachine:", ":execution:", 1)
    )
}

pub async fn rollback(clients: &AwsClients, settings: &Settings, event: RollbackEvent) -> Result<RollbackOutput> {
    rules::run_id("runId", &event.run_id)?;
    rules::cluster_name("clusterName", &event.cluster_name)?;
    rules::namespace("namespace", &event.namespace)?;
    let owner = Owner::new(&event.cluster_name, &event.namespace);
    let holder = event.execution_arn.as_deref().unwrap_or(&event.run_id);
    let ledger = Ledger::of(&clients.dynamodb, settings)?;
    // A grant the run made and did not take back (stopped, timed out, failed in between).
    bootstrap_grant::revoke_by_run(&clients.eks, &ledger, &owner.cluster, &event.run_id).await?;
    let header = ledger.namespace(&owner.cluster, &owner.namespace).await?.header;
    let generation = header.as_ref().filter(|h| h.run == event.run_id).map(|h| h.generation);
    let restamp = match (&event.run, event.outcome) {
        (Some(run), RunOutcome::Succeeded) => run.expires_at.as_deref(),
        _ => None,
    };
    if generation.is_some() {
        ledger
            .end_run(&owner.cluster, &owner.namespace, &event.run_id, restamp)
            .await?;
    }
    let base = RollbackOutput {
        outcome: event.outcome,
        on_failure: event.on_failure,
        expiry: None,
        cleanup_execution_name: None,
        superseded: None,
        execution_output: None,
    };
    if event.outcome == RunOutcome::Succeeded || event.on_failure == OnFailure::Retain {
        run_lease::release(clients, settings, &owner, holder).await?;
        if event.outcome == RunOutcome::Failed {
            tracing::warn!(run = %event.run_id, "provisioning failed; resources retained for inspection");
            return Ok(base);
        }
        let expiry = event
            .run
            .as_ref()
            .map(|run| Expiry::after(run, header.as_ref(), restamp.is_some()));
        return Ok(RollbackOutput {
            expiry,
            execution_output: event.execution_output,
            ..base
        });
    }
    // This run never began in the ledger (it created nothing), or a later run holds the namespace.
    let Some(generation) = generation else {
        let why = match &header {
            Some(header) => format!(
                "superseded by run {} (generation {}): nothing of run {} is rolled back",
                header.run, header.generation, event.run_id
            ),
            None => format!("run {} recorded nothing: there is nothing to roll back", event.run_id),
        };
        tracing::info!(run = %event.run_id, why, "rollback: nothing to do");
        run_lease::release(clients, settings, &owner, holder).await?;
        return Ok(RollbackOutput {
            superseded: Some(why),
            ..base
        });
    };
    let arn = settings.cleanup_state_machine_arn.as_deref().ok_or_else(|| {
        WorkflowError::invalid(
            "CLEANUP_STATE_MACHINE_ARN",
            "must be set to the cleanup state machine's ARN",
        )
    })?;
    let name = execution_name(&owner, &event.run_id);
    let error = event.error.get("Error").and_then(Value::as_str).unwrap_or("an error");
    let request = CleanupRequest {
        cluster_name: event.cluster_name.clone(),
        namespace: event.namespace.clone(),
        run_id: Some(event.run_id.clone()),
        generation: Some(generation),
        reason: format!("rollback of {} after {error}", event.run_id),
    };
    // Started first: its first step waits for the lease, so it deletes nothing before the hand-over
    // (or before a later run, which it then finds has superseded it).
    let started = start_cleanup(&clients.sfn, arn, &name, &request).await?;
    let handed_over = run_lease::hand_over(clients, settings, &owner, holder, &execution_arn(arn, &name)).await?;
    tracing::info!(run = %event.run_id, cleanup = %name, new = matches!(started, Started::New), handed_over, "rollback started");
    Ok(RollbackOutput {
        cleanup_execution_name: Some(name),
        ..base
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn execution_names_fit_step_functions_and_never_collide() {
        let owner = Owner::new("demo", "n".repeat(33));
        let name = execution_name(&owner, &"r".repeat(80));
        assert_eq!(name.len(), 80);
        assert!(name.starts_with("rollback-"));
        // CLI run ids share a long prefix: only the timestamp at the end differs.
        let first = execution_name(&owner, &format!("provision-abc-{}-20261130T050000", "n".repeat(33)));
        let second = execution_name(&owner, &format!("provision-abc-{}-20261130T050001", "n".repeat(33)));
        assert_ne!(first, second);
        assert!(first.len() <= 80 && second.len() <= 80);
        assert_ne!(
            execution_name(&owner, "run"),
            execution_name(&Owner::new("demo", "other"), "run")
        );
    }
}
