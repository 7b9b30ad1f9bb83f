//! The workflow's errors. Each variant has a stable name (the Lambda `errorType`) that the state
//! machines match in `Retry`/`Catch`, and a message that tells a person what went wrong and what to do.

mod classify;
mod retry;
pub use retry::RetryClass;

pub type Result<T, E = WorkflowError> = std::result::Result<T, E>;

/// `ErrorName` (the fieldless twin strum derives) lists every name without an instance, for the
/// state machine generator; its variant names are the stable names.
#[derive(Debug, thiserror::Error, PartialEq, Eq, strum::EnumDiscriminants)]
#[strum_discriminants(name(ErrorName), derive(strum::EnumIter, strum::IntoStaticStr))]
pub enum WorkflowError {
    #[error("invalid input: `{field}` {rule}")]
    InvalidInput { field: String, rule: String },

    #[error(
        "EKS cluster `{cluster}` was not found in this account and region; check `clusterName` and the region the workflow runs in"
    )]
    ClusterNotFound { cluster: String },

    #[error(
        "EKS cluster `{cluster}` is {status}; the workflow only provisions storage for ACTIVE (or CREATING) clusters"
    )]
    ClusterNotActive { cluster: String, status: String },

    #[error(
        "EKS cluster `{cluster}` has no private subnet in VPC {vpc_id}: Fargate pods and EFS mount targets need subnets whose route table has no default route to an internet gateway"
    )]
    NoPrivateSubnets { cluster: String, vpc_id: String },

    #[error("the workflow cannot reach the Kubernetes API of cluster `{cluster}`: {reason}")]
    ClusterAccessNotGranted { cluster: String, reason: String },

    #[error(
        "Fargate profile `{name}` already exists with a different spec ({difference}); delete it or choose another namespace"
    )]
    FargateProfileConflict { name: String, difference: String },

    #[error(
        "cluster `{cluster}` is busy with another Fargate profile change ({message}); EKS allows one at a time, retry shortly"
    )]
    FargateProfileBusy { cluster: String, message: String },

    #[error("Fargate profile `{name}` is {status}: {details}")]
    FargateProfileFailed {
        name: String,
        status: String,
        details: String,
    },

    #[error(
        "EFS file system {file_system_id} (creation token `{creation_token}`) already exists with different settings: {difference}; run cleanup first or keep the original settings"
    )]
    FileSystemConflict {
        file_system_id: String,
        creation_token: String,
        difference: String,
    },

    #[error(
        "EFS access point {access_point_id} of this namespace on file system {file_system_id} has other settings: {difference}; EFS cannot change an access point: run cleanup first, or keep the original posixUser"
    )]
    AccessPointConflict {
        access_point_id: String,
        file_system_id: String,
        difference: String,
    },

    #[error("EFS {resource} is in state `{state}` and cannot be used; inspect it in the EFS console")]
    FileSystemFailed { resource: String, state: String },

    #[error("KMS key behind `{alias}` cannot encrypt the file system: {reason}")]
    KmsKeyUnusable { alias: String, reason: String },

    #[error("{resource} cannot be deleted yet: {message}; retry after its dependants are gone")]
    DependencyNotReady { resource: String, message: String },

    #[error("the workflow's IAM role may not call {operation}: {message}; grant it in the function's policy")]
    AccessDenied { operation: String, message: String },

    #[error("AWS throttled {operation}: {message}; retry with backoff")]
    AwsThrottled { operation: String, message: String },

    #[error("AWS was unavailable for {operation}: {message}; retry")]
    AwsUnavailable { operation: String, message: String },

    #[error("AWS rejected {operation} with {code}: {message}")]
    AwsApiError {
        operation: String,
        code: String,
        message: String,
    },

    #[error(
        "the Kubernetes API of cluster `{cluster}` refused the workflow (HTTP {code}: {message}); the workflow's IAM role needs its EKS access entry (which `prepare` creates, with the group efs-fargate-workflow) on a cluster whose authentication mode is API or API_AND_CONFIG_MAP, and the workflow's RBAC (installed by the bootstrap grant); if the entry or grant was just created, start the run again in a minute"
    )]
    ClusterAuthFailed {
        cluster: String,
        code: u16,
        message: String,
    },

    #[error(
        "the Kubernetes API of cluster `{cluster}` did not answer {operation}: {message}; retry, and if it persists check that the function can reach the cluster endpoint (public access, or the function in the cluster's VPC)"
    )]
    KubernetesUnavailable {
        cluster: String,
        operation: String,
        message: String,
    },

    #[error("Kubernetes rejected {operation} with HTTP {code} {reason}: {message}")]
    KubernetesApiError {
        operation: String,
        code: u16,
        reason: String,
        message: String,
    },

    #[error(
        "{object} exists but was not created by the workflow (it lacks our `app.kubernetes.io/managed-by` and run labels), so the workflow will not change or delete it; rename or remove it, or choose another namespace"
    )]
    KubernetesObjectConflict { object: String },

    #[error(
        "persistent volume `{name}` cannot serve this run: {detail}; run the cleanup for the namespace it names, or delete the volume (its reclaim policy is Retain, so the data on EFS stays)"
    )]
    PersistentVolumeConflict { name: String, detail: String },

    #[error(
        "pod {pod} stopped: {detail}; see `kubectl -n {namespace} describe pod {pod}`, then clean up and start the run again"
    )]
    PodFailed {
        namespace: String,
        pod: String,
        detail: String,
    },

    #[error("EFS validation failed: {check}. Evidence: {evidence}")]
    ValidationFailed { check: String, evidence: String },

    #[error(
        "security group `{name}` exists in {vpc_id} ({group_id}) without the workflow's ownership tags, so the workflow will not use or delete it; rename or delete it, or choose another namespace"
    )]
    SecurityGroupConflict {
        name: String,
        vpc_id: String,
        group_id: String,
    },

    #[error(
        "namespace `{namespace}` exists on cluster `{cluster}` but the workflow did not create it; add \"namespace\" to the input's `adopt` list to use it as it is (cleanup will never delete it), or choose another namespace"
    )]
    NamespaceConflict { cluster: String, namespace: String },

    #[error(
        "namespace `{namespace}` on cluster `{cluster}` is adopted but does not carry the label {label}: the cluster's admission policy admits the workflow only in namespaces that do; label it (`kubectl label namespace {namespace} {label}`, which takes a cluster administrator) and run again"
    )]
    NamespaceNotAdmitted {
        cluster: String,
        namespace: String,
        label: String,
    },

    #[error(
        "cleanup of {cluster}/{namespace} finished with resources left: {left}; start the cleanup again once the cause is fixed"
    )]
    CleanupIncomplete {
        cluster: String,
        namespace: String,
        left: String,
    },

    #[error(
        "the TTL reaper gave up on {runs} after {attempts} failed cleanup attempts; read the failed cleanup executions, fix the cause, then start a cleanup from the console or `efs-workflow cleanup`"
    )]
    CleanupAbandoned { runs: String, attempts: u32 },

    #[error(
        "another run holds the lease `{key}`: execution `{holder}` is provisioning or cleaning up the same cluster namespace; wait for that execution to finish, or stop it (`aws stepfunctions stop-execution --execution-arn {holder}`), then start this run again"
    )]
    RunInProgress { key: String, holder: String },

    #[error(
        "EKS cluster `{cluster}` does not carry the opt-in tag `{tag_key}=true`, so the workflow will not change it; tag the cluster (`aws eks tag-resource --resource-arn <cluster ARN> --tags {tag_key}=true`) and start the run again"
    )]
    ClusterNotOptedIn { cluster: String, tag_key: String },

    #[error(
        "VPC {vpc_id} has {attributes} off, so the EFS mount target names (fs-….efs.<region>.amazonaws.com) do not resolve in it and Fargate pods cannot mount the file system; turn both on (`aws ec2 modify-vpc-attribute --vpc-id {vpc_id} --enable-dns-support '{{\"Value\":true}}'`, then the same with `--enable-dns-hostnames`) and start the run again"
    )]
    VpcDnsDisabled { vpc_id: String, attributes: String },

    #[error(
        "subnet {subnet_id} ({availability_zone}) has {available} free IP addresses, and the run needs {needed} there (one for the EFS mount target, the others for Fargate pods); free addresses in it, or add a larger private subnet in that zone to the cluster, and start the run again"
    )]
    SubnetFull {
        subnet_id: String,
        availability_zone: String,
        available: i32,
        needed: i32,
    },

    #[error(
        "the workflow's functions cannot reach the Kubernetes API of cluster `{cluster}`: {reason}; enable public endpoint access for them (`aws eks update-cluster-config --name {cluster} --resources-vpc-config endpointPublicAccess=true`, optionally with publicAccessCidrs), or deploy the functions in the cluster's VPC, and start the run again"
    )]
    ClusterEndpointUnreachable { cluster: String, reason: String },

    #[error(
        "pod execution role {role_arn} cannot serve Fargate: {reason}; see https://docs.aws.amazon.com/eks/latest/userguide/pod-execution-role.html, or leave `podExecutionRoleArn` out to use the deployment's role"
    )]
    PodExecutionRoleInvalid { role_arn: String, reason: String },

    #[error(
        "EKS cluster `{cluster}` has no IAM OIDC provider for its issuer {issuer}, so the Container Insights collector cannot get AWS credentials (IAM roles for service accounts); create the provider (`eksctl utils associate-iam-oidc-provider --cluster {cluster} --approve`), or leave `monitoring.containerInsights` off, and start the run again"
    )]
    OidcProviderMissing { cluster: String, issuer: String },

    #[error(
        "IAM role {role_name} exists but {reason}; the workflow gives each cluster's Container Insights collector a role of that name and never changes a role it did not create: delete or rename that role, or leave `monitoring.containerInsights` off, and start the run again"
    )]
    CollectorRoleConflict { role_name: String, reason: String },

    #[error(
        "the ownership ledger's record of {record} disagrees with this run: {detail}; the workflow deletes only what its ledger records, so it stops rather than guess: read the item in the deployment's ledger table (LedgerTable) and the resource, and start the run again once they agree"
    )]
    LedgerConflict { record: String, detail: String },
}

impl WorkflowError {
    /// The stable name Step Functions sees as the Lambda `errorType`.
    pub fn error_type(&self) -> &'static str {
        ErrorName::from(self).into()
    }

    /// Whether the same call may succeed later by itself. `ClusterAuthFailed` is not: only the state
    /// machines retry it, a few times slowly, for a just-created access entry (see [`RetryClass`]).
    pub fn is_retryable(&self) -> bool {
        matches!(self.retry_class(), Some(RetryClass::Transient | RetryClass::Busy))
    }

    /// Field and rule are cut to a few hundred characters: serde's messages echo the offending
    /// value, which may be megabytes long.
    pub fn invalid(field: impl Into<String>, rule: impl Into<String>) -> Self {
        Self::InvalidInput {
            field: truncated(&field.into(), 200),
            rule: truncated(&rule.into(), 1_000),
        }
    }
}

/// The longest error message a function reports: well under Step Functions' 32,768-character
/// `Cause` and 256 KiB payload limits, so a huge input value echoed in a message can never turn an
/// `InvalidInput` into `States.DataLimitExceeded`.
pub const MAX_MESSAGE_CHARS: usize = 8_192;

/// `text` cut to at most `max` characters, saying how much was left out.
pub fn truncated(text: &str, max: usize) -> String {
    let total = text.chars().count();
    if total <= max {
        return text.to_string();
    }
    let marker = format!(" … [{} more characters]", total - max);
    let kept: String = text.chars().take(max.saturating_sub(marker.chars().count())).collect();
    kept + &marker
}

impl From<WorkflowError> for lambda_runtime::Diagnostic {
    fn from(err: WorkflowError) -> Self {
        Self {
            error_type: err.error_type().to_string(),
            error_message: truncated(&err.to_string(), MAX_MESSAGE_CHARS),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn huge_values_are_cut_in_messages() {
        let huge = "x".repeat(1_000_000);
        let err = WorkflowError::invalid("clusterName", format!("invalid value `{huge}`"));
        assert!(err.to_string().chars().count() < 1_300, "{}", err.to_string().len());
        assert!(err.to_string().contains("more characters]"));
        let diagnostic: lambda_runtime::Diagnostic = WorkflowError::ValidationFailed {
            check: "both files".into(),
            evidence: huge,
        }
        .into();
        assert_eq!(diagnostic.error_message.chars().count(), MAX_MESSAGE_CHARS);
        assert_eq!(truncated("short", 10), "short");
    }

    #[test]
    fn diagnostic_carries_the_stable_name() {
        let diagnostic: lambda_runtime::Diagnostic = WorkflowError::invalid("clusterName", "is required").into();
        assert_eq!(diagnostic.error_type, "InvalidInput");
        assert_eq!(diagnostic.error_message, "invalid input: `clusterName` is required");
    }
}
