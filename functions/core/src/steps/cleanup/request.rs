//! The cleanup state machine's execution input, and how the reaper, rollback and the CLI start it.

use crate::error::{Result, WorkflowError};
use serde::{Deserialize, Serialize};

/// What a cleanup execution is asked to do. Without `runId` it removes everything the ledger
/// records for the cluster+namespace; with it (a rollback) only what that run created. With
/// `generation` (a rollback, a TTL cleanup) it removes nothing at all once a later run has held the
/// namespace.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CleanupRequest {
    pub cluster_name: String,
    pub namespace: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generation: Option<u64>,
    /// Why the cleanup was started (shown in the execution input, for people).
    pub reason: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Started {
    New,
    /// An execution of that name exists already (an earlier sweep or rollback started it).
    AlreadyExisted,
}

/// Starts the cleanup state machine under `execution_name`; a name that was used before is not an
/// error (Step Functions refuses a second execution of one name), so repeated calls start one.
pub async fn start_cleanup(
    sfn: &aws_sdk_sfn::Client,
    cleanup_state_machine_arn: &str,
    execution_name: &str,
    request: &CleanupRequest,
) -> Result<Started> {
    let input = serde_json::to_string(request).expect("a cleanup request serializes");
    let started = sfn
        .start_execution()
        .state_machine_arn(cleanup_state_machine_arn)
        .name(execution_name)
        .input(input)
        .send()
        .await;
    match started {
        Ok(_) => Ok(Started::New),
        Err(e) if e.as_service_error().is_some_and(|s| s.is_execution_already_exists()) => Ok(Started::AlreadyExisted),
        Err(e) => Err(WorkflowError::from_sdk("states:StartExecution", e)),
    }
}
