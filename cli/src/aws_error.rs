//! AWS errors of the CLI's own calls, said to the person running it: their credentials, their
//! region, their network or their permissions, not the deployed functions'.

use crate::error::CliError;
use aws_sdk_sfn::error::{ProvideErrorMetadata, SdkError};
use efs_fargate_core::WorkflowError;

/// The CLI's view of a failed call `operation` (`states:StartExecution`).
pub fn caller_error<E, R>(operation: &str, err: SdkError<E, R>) -> CliError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug,
{
    let error = WorkflowError::from_sdk(operation, err);
    match &error {
        WorkflowError::AccessDenied { operation, message } => {
            return CliError::Aws(format!(
                "your AWS identity may not call {operation}: {message}. Use credentials allowed to run the \
                 workflow's state machines (states:StartExecution, DescribeExecution, GetExecutionHistory)"
            ));
        }
        WorkflowError::AwsUnavailable { operation, message }
        | WorkflowError::AwsApiError { operation, message, .. } => {
            if let Some(hint) = environment(message) {
                return CliError::Aws(format!("{operation}: {hint}"));
            }
            if matches!(error, WorkflowError::AwsUnavailable { .. }) {
                return CliError::Aws(format!(
                    "AWS could not be reached for {operation}: {message}. Check the network, and AWS_ENDPOINT_URL if set"
                ));
            }
        }
        _ => {}
    }
    CliError::Workflow(error)
}

/// What the person has to set, when the SDK's message says the environment lacks it.
fn environment(message: &str) -> Option<String> {
    let lower = message.to_ascii_lowercase();
    if lower.contains("credential") {
        Some(format!(
            "no usable AWS credentials ({message}). Set AWS_PROFILE, or AWS_ACCESS_KEY_ID and \
             AWS_SECRET_ACCESS_KEY, or run where a role provides them"
        ))
    } else if lower.contains("region") {
        Some(format!(
            "no AWS region ({message}). Set AWS_REGION or a profile's region"
        ))
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_credentials_and_region_are_named_as_such() {
        assert!(
            environment("dispatch failure: no credentials provider")
                .unwrap()
                .contains("AWS_PROFILE")
        );
        assert!(
            environment("failed to construct request: a region must be set")
                .unwrap()
                .contains("AWS_REGION")
        );
        assert_eq!(environment("connection refused"), None);
    }
}
