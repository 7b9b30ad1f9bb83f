//! The local stack's names and settings, defined once for every test tree (`tests/tests`, the
//! gateway tests of `tests/local-stack`): the cluster the network is seeded for, the namespace a
//! run gets by default, the pod execution role, and the settings the handlers run with.

use efs_fargate_core::settings::{AccessEntryMode, InsightsSettings, Settings};

/// The EKS cluster [`crate::seed_network`] creates for the tests.
pub const CLUSTER: &str = "demo";
/// The namespace of a run whose input names none.
pub const NAMESPACE: &str = efs_fargate_core::input::DEFAULT_NAMESPACE;
/// The settings' default pod execution role.
pub const POD_ROLE: &str = "arn:aws:iam::123456789012:role/AmazonEKSFargatePodExecutionRole";

/// The permissions boundary of the Container Insights collector roles (the template's
/// `ContainerInsightsBoundary`; moto checks only its form).
pub const INSIGHTS_BOUNDARY: &str = "arn:aws:iam::123456789012:policy/efs-fargate-workflow-insights-boundary";

/// The deployment's Container Insights settings, as the template sets them.
pub fn insights_settings() -> InsightsSettings {
    InsightsSettings {
        boundary_arn: Some(INSIGHTS_BOUNDARY.into()),
        ..InsightsSettings::default()
    }
}

/// The local stack's settings: moto has no EKS access entries, polls may be short, and the
/// ledger is the table every [`crate::World`] creates.
pub fn settings() -> Settings {
    Settings {
        pod_execution_role_arn: Some(POD_ROLE.into()),
        insights: insights_settings(),
        access_entry_mode: AccessEntryMode::Skip,
        poll_seconds_override: Some(1),
        ledger_table_name: Some(crate::LEDGER_TABLE.into()),
        ..Settings::default()
    }
}
