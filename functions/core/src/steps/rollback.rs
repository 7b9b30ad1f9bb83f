//! What the provisioning state machine does when a step fails: start the cleanup state machine for
//! this run (`onFailure: rollback`, the default) or keep everything for inspection (`retain`).

use crate::error::{Result, WorkflowError};
use crate::input::{OnFailure, rules};
use crate::ownership::Owner;
use crate::settings::Settings;
use crate::steps::reaper::{Started, start_cleanup};
use serde::{Deserialize, Serialize};
use serde_json::Value;

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
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RollbackOutput {
    pub on_failure: OnFailure,
    /// The cleanup execution's name, when one was started (or had been).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cleanup_execution_name: Option<String>,
}

/// `rollback-<hash>-<runId>`: one cleanup per failed run, however often the rollback is retried.
pub fn execution_name(owner: &Owner, run_id: &str) -> String {
    format!("rollback-{}-{run_id}", owner.short_hash())
        .chars()
        .take(80)
        .collect()
}

pub async fn rollback(sfn: &aws_sdk_sfn::Client, settings: &Settings, event: RollbackEvent) -> Result<RollbackOutput> {
    rules::run_id("runId", &event.run_id)?;
    rules::cluster_name("clusterName", &event.cluster_name)?;
    rules::namespace("namespace", &event.namespace)?;
    if event.on_failure == OnFailure::Retain {
        tracing::warn!(run = %event.run_id, "provisioning failed; resources retained for inspection");
        return Ok(RollbackOutput {
            on_failure: OnFailure::Retain,
            cleanup_execution_name: None,
        });
    }
    let arn = settings.cleanup_state_machine_arn.as_deref().ok_or_else(|| {
        WorkflowError::invalid(
            "CLEANUP_STATE_MACHINE_ARN",
            "must be set to the cleanup state machine's ARN",
        )
    })?;
    let owner = Owner::new(&event.cluster_name, &event.namespace);
    let name = execution_name(&owner, &event.run_id);
    let error = event.error.get("Error").and_then(Value::as_str).unwrap_or("an error");
    let reason = format!("rollback of {} after {error}", event.run_id);
    let started = start_cleanup(sfn, arn, &name, &event.cluster_name, &event.namespace, &reason).await?;
    tracing::info!(run = %event.run_id, cleanup = %name, new = matches!(started, Started::New), "rollback started");
    Ok(RollbackOutput {
        on_failure: OnFailure::Rollback,
        cleanup_execution_name: Some(name),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn execution_names_fit_step_functions() {
        let name = execution_name(&Owner::new("demo", "ns"), &"r".repeat(80));
        assert_eq!(name.len(), 80);
        assert!(name.starts_with("rollback-"));
    }
}
