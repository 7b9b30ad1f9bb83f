//! What the provisioning state machine does when a step fails: start the cleanup state machine for
//! this run (`onFailure: rollback`, the default) or keep everything for inspection (`retain`).
//! The cleanup carries the run id, so it removes only what this run created: a failed re-run of a
//! provisioned namespace leaves the earlier run's resources and data exactly as they were.

use crate::error::{Result, WorkflowError};
use crate::input::{OnFailure, rules};
use crate::ownership::Owner;
use crate::settings::Settings;
use crate::steps::cleanup::{CleanupRequest, Started, start_cleanup};
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
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RollbackOutput {
    pub on_failure: OnFailure,
    /// The cleanup execution's name, when one was started (or had been).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cleanup_execution_name: Option<String>,
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
    let request = CleanupRequest {
        cluster_name: event.cluster_name.clone(),
        namespace: event.namespace.clone(),
        run_id: Some(event.run_id.clone()),
        reason: format!("rollback of {} after {error}", event.run_id),
    };
    let started = start_cleanup(sfn, arn, &name, &request).await?;
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
