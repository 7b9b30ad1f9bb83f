//! Which errors are worth retrying, as a property of each error name: the code asks
//! `WorkflowError::is_retryable`, and the state machine generator (`statemachine/gen`) builds every
//! `Retry` list from `ErrorName::retry_class`, so the two cannot disagree.

use super::{ErrorName, WorkflowError};

/// Why an error may go away when the same call is made again later.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, strum::EnumIter)]
pub enum RetryClass {
    /// AWS or the Kubernetes API throttled or did not answer: retry soon, with backoff.
    Transient,
    /// Something else is in the way for a while (another Fargate profile change, dependants still
    /// being deleted): retry less often, for longer.
    Busy,
    /// The Kubernetes API refused a just-created EKS access entry, which takes seconds to propagate:
    /// worth two slow retries in the state machines, but not a sign that the call will work by itself.
    AccessPropagation,
}

impl ErrorName {
    /// The retry class of this name; `None` for errors that need a person (or a changed input).
    pub fn retry_class(self) -> Option<RetryClass> {
        match self {
            Self::AwsThrottled | Self::AwsUnavailable | Self::KubernetesUnavailable => Some(RetryClass::Transient),
            Self::FargateProfileBusy | Self::DependencyNotReady => Some(RetryClass::Busy),
            Self::ClusterAuthFailed => Some(RetryClass::AccessPropagation),
            Self::InvalidInput
            | Self::ClusterNotFound
            | Self::ClusterNotActive
            | Self::NoPrivateSubnets
            | Self::ClusterAccessNotGranted
            | Self::FargateProfileConflict
            | Self::FargateProfileFailed
            | Self::FileSystemConflict
            | Self::AccessPointConflict
            | Self::FileSystemFailed
            | Self::KmsKeyUnusable
            | Self::AccessDenied
            | Self::AwsApiError
            | Self::KubernetesApiError
            | Self::KubernetesObjectConflict
            | Self::PersistentVolumeConflict
            | Self::PodFailed
            | Self::ValidationFailed
            | Self::SecurityGroupConflict
            | Self::NamespaceConflict
            | Self::NamespaceNotAdmitted
            | Self::CleanupIncomplete
            | Self::CleanupAbandoned
            | Self::RunInProgress
            | Self::ClusterNotOptedIn
            | Self::VpcDnsDisabled
            | Self::SubnetFull
            | Self::ClusterEndpointUnreachable
            | Self::PodExecutionRoleInvalid
            | Self::OidcProviderMissing
            | Self::CollectorRoleConflict
            | Self::LedgerConflict => None,
        }
    }

    /// The stable name Step Functions sees as the Lambda `errorType`.
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

impl WorkflowError {
    pub fn retry_class(&self) -> Option<RetryClass> {
        ErrorName::from(self).retry_class()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use strum::IntoEnumIterator;

    #[test]
    fn names_are_the_variant_names_and_unique() {
        let names: Vec<&str> = ErrorName::iter().map(ErrorName::as_str).collect();
        assert!(names.contains(&"ClusterAuthFailed"));
        let mut unique = names.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), names.len());
    }

    #[test]
    fn access_propagation_is_retried_only_by_the_state_machines() {
        let error = WorkflowError::ClusterAuthFailed {
            cluster: "c".into(),
            code: 401,
            message: "Unauthorized".into(),
        };
        assert_eq!(error.error_type(), "ClusterAuthFailed");
        assert_eq!(error.retry_class(), Some(RetryClass::AccessPropagation));
        assert!(!error.is_retryable());
    }
}
