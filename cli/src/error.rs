//! What can go wrong on the command line, said so a person can act on it.

use efs_fargate_core::WorkflowError;

#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error("{0}")]
    Input(String),
    #[error(transparent)]
    Workflow(#[from] WorkflowError),
    #[error("--{flag} (or {env}) is required: the ARN from the stack outputs, or the local stack's")]
    MissingArn { flag: &'static str, env: &'static str },
    #[error("the doctor found problems: {failed}")]
    Unhealthy { failed: String },
    #[error("the execution ended {status}: {detail}")]
    ExecutionFailed { status: String, detail: String },
}
