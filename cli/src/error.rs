//! What can go wrong on the command line, said so a person can act on it.

use efs_fargate_core::WorkflowError;

#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error("{0}")]
    Input(String),
    #[error(transparent)]
    Workflow(#[from] WorkflowError),
    /// The CLI's own AWS call failed for a reason of the caller's environment or rights.
    #[error("{0}")]
    Aws(String),
    #[error("--{flag} (or {env}) is required: the ARN from the stack outputs, or the local stack's")]
    MissingArn { flag: &'static str, env: &'static str },
    #[error("the doctor found problems: {failed}")]
    Unhealthy { failed: String },
    #[error("the execution ended {status}: {detail}")]
    ExecutionFailed { status: String, detail: String },
    #[error(
        "cleanup deletes what the workflow created in {cluster}/{namespace}: pass --yes to confirm (stdin is not a terminal to ask on)"
    )]
    ConfirmationRequired { cluster: String, namespace: String },
    #[error("cleanup of {cluster}/{namespace} not confirmed: nothing was started")]
    NotConfirmed { cluster: String, namespace: String },
}

/// The exit codes, for `--help` and the README: a script tells what went wrong by the code.
pub const EXIT_CODES: &str = "Exit codes: 0 done; 1 the execution failed, or the doctor found problems; \
2 bad arguments or input (nothing was started); 3 AWS could not be reached or refused the call \
(credentials, region, permissions); 4 a cleanup was not confirmed.";

impl CliError {
    /// The process exit code of this error (see [`EXIT_CODES`]).
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::ExecutionFailed { .. } | CliError::Unhealthy { .. } => 1,
            CliError::Input(_) | CliError::MissingArn { .. } | CliError::ConfirmationRequired { .. } => 2,
            CliError::Workflow(WorkflowError::InvalidInput { .. }) => 2,
            CliError::Workflow(_) | CliError::Aws(_) => 3,
            CliError::NotConfirmed { .. } => 4,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_of_failure_has_its_own_exit_code() {
        let failed = CliError::ExecutionFailed {
            status: "FAILED".into(),
            detail: "x".into(),
        };
        let unconfirmed = CliError::NotConfirmed {
            cluster: "c".into(),
            namespace: "n".into(),
        };
        let missing = CliError::MissingArn { flag: "f", env: "E" };
        let aws = CliError::Workflow(WorkflowError::invalid("clusterName", "bad"));
        assert_eq!(failed.exit_code(), 1);
        assert_eq!(missing.exit_code(), 2);
        assert_eq!(aws.exit_code(), 2, "bad input found by the workflow's own rules");
        assert_eq!(unconfirmed.exit_code(), 4);
    }
}
