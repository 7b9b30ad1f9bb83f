//! SDK and Kubernetes client errors turned into [`WorkflowError`]s, once: throttling and outages
//! retryable, access denials named, everything else with the service's own code and message.

use super::WorkflowError;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

impl WorkflowError {
    /// Classifies any SDK error: throttling and transport failures are retryable, access denials
    /// are named, everything else keeps AWS's code and message.
    pub fn from_sdk<E, R>(operation: &str, err: SdkError<E, R>) -> Self
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
        R: std::fmt::Debug,
    {
        let operation = operation.to_string();
        let (code, message) = match &err {
            SdkError::ServiceError(service) => {
                let e = service.err();
                (
                    e.code().unwrap_or("Unknown").to_string(),
                    e.message().unwrap_or("no message").to_string(),
                )
            }
            SdkError::ConstructionFailure(_) => {
                return Self::AwsApiError {
                    operation,
                    code: "RequestConstructionFailed".into(),
                    message: describe_chain(&err),
                };
            }
            _ => {
                return Self::AwsUnavailable {
                    operation,
                    message: describe_chain(&err),
                };
            }
        };
        classify_code(operation, code, message)
    }

    /// Classifies a Kubernetes client error: 401/403 mean the cluster does not accept the
    /// workflow's identity, 429/5xx and transport failures are retryable, everything else keeps
    /// the API server's code, reason and message. Request headers (the token) are never part of it.
    pub fn from_kube(cluster: &str, operation: &str, err: kube::Error) -> Self {
        match err {
            kube::Error::Api(status) => match status.code {
                401 | 403 => Self::ClusterAuthFailed {
                    cluster: cluster.to_string(),
                    code: status.code,
                    message: status.message,
                },
                429 | 500.. => Self::KubernetesUnavailable {
                    cluster: cluster.to_string(),
                    operation: operation.to_string(),
                    message: format!("HTTP {} {}: {}", status.code, status.reason, status.message),
                },
                code => Self::KubernetesApiError {
                    operation: operation.to_string(),
                    code,
                    reason: status.reason,
                    message: status.message,
                },
            },
            kube::Error::HyperError(_) | kube::Error::Service(_) | kube::Error::ReadEvents(_) => {
                Self::KubernetesUnavailable {
                    cluster: cluster.to_string(),
                    operation: operation.to_string(),
                    message: describe_chain(&err),
                }
            }
            other => Self::KubernetesApiError {
                operation: operation.to_string(),
                code: 0,
                reason: "ClientError".into(),
                message: describe_chain(&other),
            },
        }
    }
}

fn classify_code(operation: String, code: String, message: String) -> WorkflowError {
    const THROTTLING: &[&str] = &[
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "RequestThrottled",
        "SlowDown",
        "ProvisionedThroughputExceededException",
    ];
    const UNAVAILABLE: &[&str] = &[
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "InternalError",
        "InternalFailure",
        "InternalServerError",
        "ServerException",
        "InternalServerErrorException",
        "Unavailable",
    ];
    const DENIED: &[&str] = &[
        "AccessDenied",
        "AccessDeniedException",
        "UnauthorizedOperation",
        "AuthorizationError",
    ];
    if THROTTLING.contains(&code.as_str()) {
        WorkflowError::AwsThrottled { operation, message }
    } else if UNAVAILABLE.contains(&code.as_str()) {
        WorkflowError::AwsUnavailable { operation, message }
    } else if DENIED.contains(&code.as_str()) {
        WorkflowError::AccessDenied { operation, message }
    } else {
        WorkflowError::AwsApiError {
            operation,
            code,
            message,
        }
    }
}

/// The error and its sources on one line: SDK errors hide the useful part in the source chain.
fn describe_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_classified_for_retry() {
        let throttled = classify_code("DescribeSubnets".into(), "RequestLimitExceeded".into(), "slow".into());
        assert_eq!(throttled.error_type(), "AwsThrottled");
        assert!(throttled.is_retryable());
        let denied = classify_code("CreateFileSystem".into(), "AccessDeniedException".into(), "no".into());
        assert_eq!(denied.error_type(), "AccessDenied");
        assert!(!denied.is_retryable());
        let other = classify_code("CreateFileSystem".into(), "BadRequest".into(), "bad".into());
        assert_eq!(other.error_type(), "AwsApiError");
        assert!(other.to_string().contains("BadRequest"));
    }
}
