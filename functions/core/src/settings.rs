//! Deployment settings: what the operator configures per deployment (environment variables set by
//! `template.yaml`, or by the local stack), as opposed to per-execution input.

use crate::error::{Result, WorkflowError};
use crate::rules;
use crate::time_scale::TimeScale;
use std::collections::HashMap;

mod alarms;
pub use alarms::AlarmSettings;
mod insights;
pub use insights::InsightsSettings;

/// Which runs may change a cluster only when the cluster carries the opt-in tag.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OptInScope {
    /// Every run, whatever started it (the default): starting an execution is not enough to
    /// change a cluster that did not ask for it.
    EveryRun,
    /// Only runs started by the EventBridge rule; console and CLI runs may target any cluster.
    EventBridgeOnly,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AccessEntryMode {
    /// Make sure the workflow's role has an EKS access entry (the default; required on AWS).
    Manage,
    /// Do not touch access entries: only for the integration tests that talk to moto directly
    /// (moto has no access-entry API). Never read from the environment, so no deployment (and not
    /// the local stack, whose gateway emulates access entries) can set it.
    Skip,
}

/// Where the Kubernetes steps reach the API server instead of the endpoint and CA that
/// DescribeCluster reports. For the local stack only: moto's DescribeCluster answers with a
/// placeholder endpoint and CA, so the fake API server's are supplied here. TLS is still verified,
/// against this CA; on AWS leave both variables unset.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KubeApiOverride {
    /// `KUBE_API_ENDPOINT`: an `https://` URL.
    pub endpoint: String,
    /// The PEM text of `KUBE_API_CA_FILE`: the CA that signed the API server's certificate.
    pub ca_pem: String,
}

/// The Fargate pods' log group when `FARGATE_LOG_GROUP` is unset (the local stack): the template
/// always names its own.
pub const DEFAULT_FARGATE_LOG_GROUP: &str = "/efs-fargate-workflow/fargate-pods";

/// The deployment id when `DEPLOYMENT_ID` is unset (the local stack and the tests): the template
/// always sets its stack's name.
pub const DEFAULT_DEPLOYMENT: &str = "local";

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settings {
    /// `POD_EXECUTION_ROLE_ARN`: used when the input has no `podExecutionRoleArn`.
    pub pod_execution_role_arn: Option<String>,
    /// `OPT_IN_SCOPE`: which runs need the opt-in tag on the cluster itself.
    pub opt_in_scope: OptInScope,
    /// `DEFAULT_TTL`: ISO-8601 duration applied to event-triggered runs.
    pub default_ttl: Option<String>,
    /// Always `Manage` from the environment; see [`AccessEntryMode::Skip`].
    pub access_entry_mode: AccessEntryMode,
    /// `POLL_SECONDS`: overrides every poll interval (the local stack uses 1).
    pub poll_seconds_override: Option<u32>,
    /// `TIME_SCALE`: **local stack only**, real seconds per simulated second (default 1): the
    /// stack replays AWS's latencies faster, and the status actions' in-function waits and the
    /// elapsed times they read from timestamps run on the same clock.
    pub time_scale: TimeScale,
    /// `KMS_DELETION_WINDOW_DAYS`: 7–30, default 7.
    pub kms_deletion_window_days: i32,
    /// `CLEANUP_STATE_MACHINE_ARN`: what the TTL reaper starts.
    pub cleanup_state_machine_arn: Option<String>,
    /// `CLUSTER_ACCESS_ROLE_ARN`: the workflow's Kubernetes identity, granted an access entry by
    /// `prepare`: the Kubernetes steps assume it for their EKS tokens (and hold no AWS right
    /// through it). Unset: the caller's own role is both.
    pub cluster_access_role_arn: Option<String>,
    /// `KUBE_API_ENDPOINT` + `KUBE_API_CA_FILE` (both or neither): local stack only.
    pub kube_api_override: Option<KubeApiOverride>,
    /// `LEASE_TABLE_NAME`: the DynamoDB table of the leases (`crate::lease`).
    pub lease_table_name: Option<String>,
    /// `LEDGER_TABLE_NAME`: the DynamoDB table of the ownership ledger (`crate::ledger`), which
    /// decides every deletion; without it nothing is created or deleted.
    pub ledger_table_name: Option<String>,
    /// `DEPLOYMENT_ID`: the deployment (the stack's name) every ledger item, tag and label names,
    /// so two deployments in one account never mistake each other's resources for their own.
    pub deployment: String,
    /// `FARGATE_LOG_GROUP`: the template's log group of the Fargate pods (tagged, with its
    /// retention), written into the logging ConfigMap when the workflow creates it.
    pub fargate_log_group: String,
    /// `EFS_ALARM_*` and `ALARM_TOPIC_ARN`: the per-file-system alarms.
    pub alarms: AlarmSettings,
    /// `CONTAINER_INSIGHTS_*` and `COLLECTOR_IMAGE`: what `monitoring.containerInsights` needs.
    pub insights: InsightsSettings,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            pod_execution_role_arn: None,
            opt_in_scope: OptInScope::EveryRun,
            default_ttl: None,
            access_entry_mode: AccessEntryMode::Manage,
            poll_seconds_override: None,
            time_scale: TimeScale::default(),
            kms_deletion_window_days: 7,
            cleanup_state_machine_arn: None,
            cluster_access_role_arn: None,
            kube_api_override: None,
            lease_table_name: None,
            ledger_table_name: None,
            deployment: DEFAULT_DEPLOYMENT.to_string(),
            fargate_log_group: DEFAULT_FARGATE_LOG_GROUP.to_string(),
            alarms: AlarmSettings::default(),
            insights: InsightsSettings::default(),
        }
    }
}

impl Settings {
    pub fn from_env() -> Result<Self> {
        Self::from_vars(&std::env::vars().collect())
    }

    /// Reads and checks the variables, so a misconfigured deployment fails on its first
    /// invocation with the variable's name instead of half-way through a run.
    pub fn from_vars(vars: &HashMap<String, String>) -> Result<Self> {
        let get = |name: &str| vars.get(name).map(|v| v.trim()).filter(|v| !v.is_empty());
        let mut settings = Self::default();
        if let Some(arn) = get("POD_EXECUTION_ROLE_ARN") {
            rules::role_arn("POD_EXECUTION_ROLE_ARN", arn)?;
            settings.pod_execution_role_arn = Some(arn.to_string());
        }
        settings.opt_in_scope = match get("OPT_IN_SCOPE") {
            None | Some("every-run") => OptInScope::EveryRun,
            Some("eventbridge-only") => OptInScope::EventBridgeOnly,
            Some(_) => {
                return Err(WorkflowError::invalid(
                    "OPT_IN_SCOPE",
                    "must be `every-run` or `eventbridge-only`",
                ));
            }
        };
        if let Some(ttl) = get("DEFAULT_TTL") {
            rules::ttl_seconds("DEFAULT_TTL", ttl)?;
            settings.default_ttl = Some(ttl.to_string());
        }
        if let Some(seconds) = get("POLL_SECONDS") {
            let seconds: u32 = seconds.parse().ok().filter(|s| (1..=300).contains(s)).ok_or_else(|| {
                WorkflowError::invalid("POLL_SECONDS", "must be a whole number of seconds from 1 to 300")
            })?;
            settings.poll_seconds_override = Some(seconds);
        }
        if let Some(scale) = get("TIME_SCALE") {
            settings.time_scale = scale.parse().ok().and_then(TimeScale::new).ok_or_else(|| {
                WorkflowError::invalid(
                    "TIME_SCALE",
                    "must be a number above 0 and at most 1 (local stack only)",
                )
            })?;
        }
        if let Some(days) = get("KMS_DELETION_WINDOW_DAYS") {
            settings.kms_deletion_window_days =
                days.parse().ok().filter(|d| (7..=30).contains(d)).ok_or_else(|| {
                    WorkflowError::invalid("KMS_DELETION_WINDOW_DAYS", "must be a number of days from 7 to 30")
                })?;
        }
        if let Some(group) = get("FARGATE_LOG_GROUP") {
            rules::log_group_name("FARGATE_LOG_GROUP", group)?;
            settings.fargate_log_group = group.to_string();
        }
        settings.alarms = AlarmSettings::from_vars(vars)?;
        settings.insights = InsightsSettings::from_vars(vars)?;
        settings.cleanup_state_machine_arn = get("CLEANUP_STATE_MACHINE_ARN").map(str::to_string);
        if let Some(arn) = get("CLUSTER_ACCESS_ROLE_ARN") {
            rules::role_arn("CLUSTER_ACCESS_ROLE_ARN", arn)?;
            settings.cluster_access_role_arn = Some(arn.to_string());
        }
        settings.kube_api_override = kube_api_override(get("KUBE_API_ENDPOINT"), get("KUBE_API_CA_FILE"))?;
        // Unlike the optional variables above, a blank name is an error: the template always sets them.
        settings.lease_table_name = table_name(vars, "LEASE_TABLE_NAME")?;
        settings.ledger_table_name = table_name(vars, "LEDGER_TABLE_NAME")?;
        if let Some(id) = vars.get("DEPLOYMENT_ID").map(|v| v.trim()) {
            rules::deployment_id("DEPLOYMENT_ID", id)?;
            settings.deployment = id.to_string();
        }
        Ok(settings)
    }

    /// The poll interval for a resource whose change typically takes about `typical` seconds.
    pub fn poll_seconds(&self, typical: u32) -> u32 {
        self.poll_seconds_override.unwrap_or(typical)
    }
}

/// A DynamoDB table name from `variable`, if it is set.
fn table_name(vars: &HashMap<String, String>, variable: &str) -> Result<Option<String>> {
    let Some(name) = vars.get(variable).map(|v| v.trim()) else {
        return Ok(None);
    };
    let valid = (3..=255).contains(&name.len()) && name.chars().all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c));
    if !valid {
        return Err(WorkflowError::invalid(
            variable,
            "must be a DynamoDB table name: 3 to 255 letters, digits, `_`, `-` or `.`",
        ));
    }
    Ok(Some(name.to_string()))
}

fn kube_api_override(endpoint: Option<&str>, ca_file: Option<&str>) -> Result<Option<KubeApiOverride>> {
    let (endpoint, ca_file) = match (endpoint, ca_file) {
        (None, None) => return Ok(None),
        (Some(endpoint), Some(ca_file)) => (endpoint, ca_file),
        (Some(_), None) | (None, Some(_)) => {
            return Err(WorkflowError::invalid(
                "KUBE_API_ENDPOINT",
                "and KUBE_API_CA_FILE must be set together (local stack only) or not at all",
            ));
        }
    };
    let https = endpoint
        .parse::<http::Uri>()
        .is_ok_and(|uri| uri.scheme_str() == Some("https") && uri.host().is_some());
    if !https {
        return Err(WorkflowError::invalid(
            "KUBE_API_ENDPOINT",
            format!("must be an https:// URL, got {endpoint:?}"),
        ));
    }
    let ca_pem = std::fs::read_to_string(ca_file)
        .map_err(|e| WorkflowError::invalid("KUBE_API_CA_FILE", format!("cannot read {ca_file}: {e}")))?;
    crate::ca_bundle::ca_certificates(ca_pem.as_bytes())
        .map_err(|reason| WorkflowError::invalid("KUBE_API_CA_FILE", format!("{ca_file}: {reason}")))?;
    Ok(Some(KubeApiOverride {
        endpoint: endpoint.to_string(),
        ca_pem,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn defaults_apply_when_nothing_is_set() {
        assert_eq!(Settings::from_vars(&vars(&[])).unwrap(), Settings::default());
    }

    #[test]
    fn every_variable_is_checked() {
        for (name, value) in [
            ("POD_EXECUTION_ROLE_ARN", "not-an-arn"),
            ("DEFAULT_TTL", "8 hours"),
            ("POLL_SECONDS", "0"),
            ("TIME_SCALE", "0"),
            ("KMS_DELETION_WINDOW_DAYS", "3"),
            ("FARGATE_LOG_GROUP", "pods:logs"),
            ("CONTAINER_INSIGHTS_LOG_GROUP", "metrics:pods"),
            (
                "CONTAINER_INSIGHTS_BOUNDARY_ARN",
                "arn:aws:iam::123456789012:role/NotAPolicy",
            ),
            ("COLLECTOR_IMAGE", "collector image"),
            ("LEASE_TABLE_NAME", " "),
            ("LEASE_TABLE_NAME", "leases/prod"),
            ("LEDGER_TABLE_NAME", "ledger prod"),
            ("DEPLOYMENT_ID", "my stack"),
            ("DEPLOYMENT_ID", ""),
        ] {
            let err = Settings::from_vars(&vars(&[(name, value)])).unwrap_err();
            assert!(
                matches!(&err, WorkflowError::InvalidInput { field, .. } if field == name),
                "{name}: {err}"
            );
        }
    }

    #[test]
    fn kube_api_override_needs_both_variables_and_a_readable_ca() {
        let pem = "-----BEGIN CERTIFICATE-----\nAQID\n-----END CERTIFICATE-----\n";
        let ca_file = std::env::temp_dir().join(format!("efs-fargate-settings-ca-{}.pem", std::process::id()));
        std::fs::write(&ca_file, pem).unwrap();
        let ca_file = ca_file.to_str().unwrap();
        let settings = Settings::from_vars(&vars(&[
            ("KUBE_API_ENDPOINT", "https://127.0.0.1:6443"),
            ("KUBE_API_CA_FILE", ca_file),
        ]))
        .unwrap();
        assert_eq!(
            settings.kube_api_override,
            Some(KubeApiOverride {
                endpoint: "https://127.0.0.1:6443".into(),
                ca_pem: pem.into()
            })
        );
        for pairs in [
            vec![("KUBE_API_ENDPOINT", "https://127.0.0.1:6443")],
            vec![("KUBE_API_CA_FILE", ca_file)],
            vec![
                ("KUBE_API_ENDPOINT", "http://127.0.0.1:6443"),
                ("KUBE_API_CA_FILE", ca_file),
            ],
        ] {
            let err = Settings::from_vars(&vars(&pairs)).unwrap_err();
            assert!(
                matches!(&err, WorkflowError::InvalidInput { field, .. } if field == "KUBE_API_ENDPOINT"),
                "{err}"
            );
        }
        let err = Settings::from_vars(&vars(&[
            ("KUBE_API_ENDPOINT", "https://127.0.0.1:6443"),
            ("KUBE_API_CA_FILE", "/nonexistent/ca.pem"),
        ]))
        .unwrap_err();
        assert!(
            matches!(&err, WorkflowError::InvalidInput { field, .. } if field == "KUBE_API_CA_FILE"),
            "{err}"
        );
        std::fs::remove_file(ca_file).unwrap();
    }

    #[test]
    fn opt_in_scope_is_strict_unless_relaxed() {
        let scope = |value: &str| {
            Settings::from_vars(&HashMap::from([("OPT_IN_SCOPE".to_string(), value.to_string())]))
                .map(|s| s.opt_in_scope)
        };
        assert_eq!(Settings::default().opt_in_scope, OptInScope::EveryRun);
        assert_eq!(scope("every-run").unwrap(), OptInScope::EveryRun);
        assert_eq!(scope("eventbridge-only").unwrap(), OptInScope::EventBridgeOnly);
        assert_eq!(scope("sometimes").unwrap_err().error_type(), "InvalidInput");
    }

    #[test]
    fn table_names_and_the_deployment_are_read() {
        let settings = Settings::from_vars(&vars(&[
            ("LEASE_TABLE_NAME", "efs-workflow-Leases-1A2B.v2"),
            ("LEDGER_TABLE_NAME", "efs-workflow-Ledger-9Z"),
            ("DEPLOYMENT_ID", "efs-workflow-prod"),
        ]))
        .unwrap();
        assert_eq!(
            settings.lease_table_name.as_deref(),
            Some("efs-workflow-Leases-1A2B.v2")
        );
        assert_eq!(settings.ledger_table_name.as_deref(), Some("efs-workflow-Ledger-9Z"));
        assert_eq!(settings.deployment, "efs-workflow-prod");
        assert_eq!(Settings::default().deployment, DEFAULT_DEPLOYMENT);
    }

    #[test]
    fn local_stack_switches_are_read_and_access_entries_are_always_managed() {
        let settings = Settings::from_vars(&vars(&[("ACCESS_ENTRY_MODE", "skip"), ("POLL_SECONDS", "1")])).unwrap();
        assert_eq!(
            settings.access_entry_mode,
            AccessEntryMode::Manage,
            "no variable turns it off"
        );
        assert_eq!(settings.poll_seconds(30), 1);
    }
}
