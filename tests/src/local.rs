//! The local stack's names and settings, defined once for every test tree (`tests/tests`, the
//! gateway tests of `tests/local-stack`): the cluster the network is seeded for, the namespace a
//! run gets by default, the pod execution role, and the settings the handlers run with.

use efs_fargate_core::settings::{AccessEntryMode, Settings};

/// The EKS cluster [`crate::seed_network`] creates for the tests.
pub const CLUSTER: &str = "demo";
/// The namespace of a run whose input names none.
pub const NAMESPACE: &str = efs_fargate_core::input::DEFAULT_NAMESPACE;
/// The settings' default pod execution role.
pub const POD_ROLE: &str = "arn:aws:iam::123456789012:role/AmazonEKSFargatePodExecutionRole";

/// The local stack's settings: moto has no EKS access entries, and polls may be short.
pub fn settings() -> Settings {
    Settings {
        pod_execution_role_arn: Some(POD_ROLE.into()),
        access_entry_mode: AccessEntryMode::Skip,
        poll_seconds_override: Some(1),
        ..Settings::default()
    }
}
