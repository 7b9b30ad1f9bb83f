//! Loading the samples under `events/`, the checks every sample of a kind gets, and the list of
//! samples some test asserts on, which must be all of them.

use efs_fargate_core::input::{ProvisionRequest, Trigger, parse_execution_input};
use efs_fargate_core::run::{Run, StepEvent};
use efs_fargate_core::settings::Settings;
use efs_fargate_core::steps::k8s::KubeStepEvent;
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::collections::BTreeSet;
use std::fmt::Debug;
use std::path::{Path, PathBuf};

/// The settings' pod execution role: what a run gets whose input names none.
pub const SETTINGS_ROLE: &str = "arn:aws:iam::123456789012:role/pods";

/// Every sample some test asserts on, relative to `events/`.
pub const COVERED: &[&str] = &[
    "console/minimal.json",
    "console/full.json",
    "console/retain-on-failure.json",
    "console/with-ttl.json",
    "console/file-system-options.json",
    "console/adopt-existing-namespace.json",
    "console/cleanup.json",
    "eventbridge/provision-timed-out.json",
    "functions/fargate-profile-namespace.json",
    "functions/cleanup-lease.json",
    "functions/cleanup-rollback-file-system.json",
    "functions/cleanup-finish.json",
    "functions/rollback-failed.json",
    "functions/rollback-succeeded.json",
    "eventbridge/create-cluster-opted-in.json",
    "eventbridge/create-cluster-not-opted-in.json",
    "eventbridge/create-cluster-legacy-field.json",
    "eventbridge/create-cluster-with-namespace-and-ttl.json",
    "scheduled/reaper.json",
    "functions/prepare.json",
    "functions/prepare-doctor.json",
    "console/dry-run.json",
    "functions/fargate-profile-converge.json",
    "functions/efs-converge.json",
    "functions/cleanup-fargate-profile.json",
    "functions/cleanup-mount-targets.json",
    "functions/cleanup-file-system.json",
    "functions/cleanup-security-group.json",
    "functions/cleanup-kms-key.json",
    "functions/cleanup-access-entry.json",
    "functions/cleanup-kubernetes.json",
    "functions/cleanup-alarms.json",
    "functions/cleanup-insights-role.json",
    "functions/storage-class-create.json",
    "functions/poc-app-converge.json",
    "functions/validate-cross-read.json",
    "functions/validate-persistence.json",
    "functions/validate-report.json",
];

pub fn events_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../events")
}

pub fn load(relative: &str) -> Value {
    assert!(
        COVERED.contains(&relative),
        "{relative} is asserted on but missing from COVERED"
    );
    let path = events_dir().join(relative);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{relative} is not valid JSON: {e}"))
}

pub fn settings() -> Settings {
    Settings {
        pod_execution_role_arn: Some(SETTINGS_ROLE.into()),
        ..Settings::default()
    }
}

pub fn provision(relative: &str) -> ProvisionRequest {
    match parse_execution_input(&load(relative), &settings()) {
        Ok(Trigger::Provision(request)) => *request,
        Ok(Trigger::Skip { reason }) => panic!("{relative} was skipped: {reason}"),
        Ok(Trigger::Plan(_)) => panic!("{relative} is a dry run"),
        Err(e) => panic!("{relative} was rejected: {e}"),
    }
}

/// Deserializes a function event, and checks its top-level keys are all known: these event types do
/// not deny unknown fields, so a misspelt key would otherwise be silently ignored.
pub fn function_event<T: DeserializeOwned>(relative: &str, known_keys: &[&str]) -> T {
    let value = load(relative);
    let keys = value
        .as_object()
        .unwrap_or_else(|| panic!("{relative} is not a JSON object"))
        .keys();
    for key in keys {
        assert!(known_keys.contains(&key.as_str()), "{relative}: unknown key {key:?}");
    }
    serde_json::from_value(value).unwrap_or_else(|e| panic!("{relative}: {e}"))
}

/// A step event's `run` must serialize back to exactly the sample's `run` (so no field in the
/// sample is misspelt and silently dropped), and must look like what `prepare` produces.
pub fn step_event<A: DeserializeOwned>(relative: &str) -> StepEvent<A> {
    let sample_run = load(relative)["run"].clone();
    let event: StepEvent<A> = function_event(relative, &["action", "run", "attempt"]);
    assert_eq!(
        serde_json::to_value(&event.run).unwrap(),
        sample_run,
        "{relative}: `run` does not round-trip through run::Run"
    );
    check_run(relative, &event.run);
    event
}

/// A status sample: `action` on the same run as `create`'s, at a later attempt.
pub fn status_event<A: DeserializeOwned + PartialEq + Debug>(relative: &str, action: A, run: &Run) -> StepEvent<A> {
    let status: StepEvent<A> = step_event(relative);
    assert_eq!(status.action, action, "{relative}");
    assert!(status.attempt > 0, "{relative}");
    assert_eq!(&status.run, run, "{relative}");
    status
}

/// A Kubernetes step event: a step event plus the file system id, which must be valid.
pub fn kube_step_event<A: DeserializeOwned>(relative: &str) -> KubeStepEvent<A> {
    let sample_run = load(relative)["run"].clone();
    let event: KubeStepEvent<A> =
        function_event(relative, &["action", "run", "fileSystemId", "accessPointId", "attempt"]);
    assert_eq!(
        serde_json::to_value(&event.run).unwrap(),
        sample_run,
        "{relative}: `run` does not round-trip through run::Run"
    );
    check_run(relative, &event.run);
    event.validate().unwrap_or_else(|e| panic!("{relative}: {e}"));
    event
}

fn check_run(relative: &str, run: &Run) {
    // The run must be one `prepare` could have produced from a valid console input.
    let console = serde_json::json!({
        "clusterName": run.request.cluster_name,
        "namespace": run.request.namespace,
        "podExecutionRoleArn": run.request.pod_execution_role_arn,
        "encryption": run.request.encryption,
        "ttl": run.request.ttl,
        "deployPocApp": run.request.deploy_poc_app,
        "onFailure": run.request.on_failure,
    });
    let reparsed = parse_execution_input(&console, &settings())
        .unwrap_or_else(|e| panic!("{relative}: the run's request is invalid: {e}"));
    assert_eq!(
        reparsed,
        Trigger::Provision(Box::new(run.request.clone())),
        "{relative}"
    );
    assert!(!run.network.private_subnets.is_empty(), "{relative}");
    assert!(!run.network.mount_target_subnets.is_empty(), "{relative}");
    let zones: BTreeSet<_> = run
        .network
        .mount_target_subnets
        .iter()
        .map(|s| &s.availability_zone)
        .collect();
    assert_eq!(
        zones.len(),
        run.network.mount_target_subnets.len(),
        "{relative}: one mount target subnet per AZ"
    );
    for subnet in &run.network.mount_target_subnets {
        assert!(
            run.network.private_subnets.contains(subnet),
            "{relative}: mount target subnet {} is not a private subnet",
            subnet.subnet_id
        );
    }
    if run.request.ttl.is_some() {
        let expires_at = run.expires_at.as_deref().expect("a run with a ttl expires");
        expires_at
            .parse::<jiff::Timestamp>()
            .unwrap_or_else(|e| panic!("{relative}: expiresAt {expires_at:?}: {e}"));
    }
}

#[test]
fn every_sample_is_covered() {
    fn walk(dir: &Path, root: &Path, found: &mut BTreeSet<String>) {
        for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, root, found);
            } else {
                let relative = path.strip_prefix(root).unwrap();
                let relative = relative
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy())
                    .collect::<Vec<_>>()
                    .join("/");
                found.insert(relative);
            }
        }
    }
    let root = events_dir();
    let mut found = BTreeSet::new();
    walk(&root, &root, &mut found);
    let covered: BTreeSet<String> = COVERED.iter().map(|s| s.to_string()).collect();
    let unchecked: Vec<_> = found.difference(&covered).collect();
    let missing: Vec<_> = covered.difference(&found).collect();
    assert!(
        unchecked.is_empty(),
        "samples under events/ that no test asserts on (add a test and list them in COVERED): {unchecked:?}"
    );
    assert!(
        missing.is_empty(),
        "COVERED names samples that do not exist: {missing:?}"
    );
}
