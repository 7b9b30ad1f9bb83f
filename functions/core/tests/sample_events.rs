//! Every sample under `events/` is valid for what it claims to be, and every file there is checked
//! by one of these tests (`every_sample_is_covered` fails on a sample nobody asserts on).

use efs_fargate_core::input::{
    Adoptable, DEFAULT_NAMESPACE, Encryption, OnFailure, ProvisionRequest, Trigger, parse_execution_input,
};
use efs_fargate_core::run::{AccessStatus, Run, StepEvent};
use efs_fargate_core::settings::{OPT_IN_TAG_KEY, Settings};
use efs_fargate_core::steps::cleanup::{
    CleanupAction, CleanupEvent, CleanupFunctionEvent, CleanupRequest, FinishEvent, LeaseEvent, finish,
};
use efs_fargate_core::steps::efs::EfsAction;
use efs_fargate_core::steps::fargate::FargateAction;
use efs_fargate_core::steps::k8s::KubeStepEvent;
use efs_fargate_core::steps::k8s::poc_app::PocAppAction;
use efs_fargate_core::steps::k8s::storage::StorageAction;
use efs_fargate_core::steps::k8s::validate::ValidateAction;
use efs_fargate_core::steps::prepare::PrepareEvent;
use efs_fargate_core::steps::rollback::{RollbackEvent, RollbackFunctionEvent, RunOutcome};
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

const SETTINGS_ROLE: &str = "arn:aws:iam::123456789012:role/pods";
const FULL_ROLE: &str = "arn:aws:iam::123456789012:role/AmazonEKSFargatePodExecutionRole";

/// Every sample some test below asserts on, relative to `events/`.
const COVERED: &[&str] = &[
    "console/minimal.json",
    "console/full.json",
    "console/retain-on-failure.json",
    "console/with-ttl.json",
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
    "functions/fargate-profile-create.json",
    "functions/fargate-profile-status.json",
    "functions/efs-create.json",
    "functions/efs-status.json",
    "functions/cleanup-fargate-profile.json",
    "functions/cleanup-mount-targets.json",
    "functions/cleanup-file-system.json",
    "functions/cleanup-security-group.json",
    "functions/cleanup-kms-key.json",
    "functions/cleanup-access-entry.json",
    "functions/cleanup-kubernetes.json",
    "functions/storage-class-create.json",
    "functions/poc-app-create.json",
    "functions/poc-app-status.json",
    "functions/validate-cross-read.json",
    "functions/validate-persistence.json",
    "functions/validate-report.json",
];

fn events_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../events")
}

fn load(relative: &str) -> Value {
    assert!(
        COVERED.contains(&relative),
        "{relative} is asserted on but missing from COVERED"
    );
    let path = events_dir().join(relative);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{relative} is not valid JSON: {e}"))
}

fn settings() -> Settings {
    Settings {
        pod_execution_role_arn: Some(SETTINGS_ROLE.into()),
        ..Settings::default()
    }
}

fn provision(relative: &str) -> ProvisionRequest {
    match parse_execution_input(&load(relative), &settings()) {
        Ok(Trigger::Provision(request)) => request,
        Ok(Trigger::Skip { reason }) => panic!("{relative} was skipped: {reason}"),
        Err(e) => panic!("{relative} was rejected: {e}"),
    }
}

/// Deserializes a function event, and checks its top-level keys are all known: these event types do
/// not deny unknown fields, so a misspelt key would otherwise be silently ignored.
fn function_event<T: DeserializeOwned>(relative: &str, known_keys: &[&str]) -> T {
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
fn step_event<A: DeserializeOwned>(relative: &str) -> StepEvent<A> {
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

/// A Kubernetes step event: a step event plus the file system id, which must be valid.
fn kube_step_event<A: DeserializeOwned>(relative: &str) -> KubeStepEvent<A> {
    let sample_run = load(relative)["run"].clone();
    let event: KubeStepEvent<A> = function_event(relative, &["action", "run", "fileSystemId", "attempt"]);
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
    assert_eq!(reparsed, Trigger::Provision(run.request.clone()), "{relative}");
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
fn console_minimal_gets_the_defaults() {
    let request = provision("console/minimal.json");
    assert_eq!(
        request,
        ProvisionRequest {
            cluster_name: "demo".into(),
            namespace: DEFAULT_NAMESPACE.into(),
            pod_execution_role_arn: SETTINGS_ROLE.into(),
            encryption: Encryption::default(),
            ttl: None,
            deploy_poc_app: true,
            on_failure: OnFailure::Rollback,
            adopt: vec![],
        }
    );
}

#[test]
fn console_full_sets_every_field() {
    let request = provision("console/full.json");
    assert_eq!(
        request,
        ProvisionRequest {
            cluster_name: "demo".into(),
            namespace: "team-a".into(),
            pod_execution_role_arn: FULL_ROLE.into(),
            encryption: Encryption {
                at_rest: true,
                kms_key_alias: Some("alias/efs-poc".into()),
                in_transit: true,
            },
            ttl: Some("PT8H".into()),
            deploy_poc_app: false,
            on_failure: OnFailure::Rollback,
            adopt: vec![],
        }
    );
    // "Every field": the sample names each field of the console input.
    let sample = load("console/full.json");
    for field in [
        "clusterName",
        "namespace",
        "podExecutionRoleArn",
        "encryption",
        "ttl",
        "deployPocApp",
        "onFailure",
    ] {
        assert!(sample.get(field).is_some(), "full.json lacks {field}");
    }
    for field in ["atRest", "kmsKeyAlias", "inTransit"] {
        assert!(
            sample["encryption"].get(field).is_some(),
            "full.json lacks encryption.{field}"
        );
    }
}

#[test]
fn console_retain_on_failure() {
    let request = provision("console/retain-on-failure.json");
    assert_eq!(request.cluster_name, "demo");
    assert_eq!(request.on_failure, OnFailure::Retain);
}

#[test]
fn console_with_ttl() {
    let request = provision("console/with-ttl.json");
    assert_eq!(request.ttl.as_deref(), Some("PT4H"));
    assert_eq!(request.namespace, DEFAULT_NAMESPACE);
}

#[test]
fn eventbridge_opted_in_is_provisioned_with_defaults() {
    let request = provision("eventbridge/create-cluster-opted-in.json");
    assert_eq!(request.cluster_name, "demo");
    assert_eq!(request.namespace, DEFAULT_NAMESPACE);
    assert_eq!(request.pod_execution_role_arn, SETTINGS_ROLE);
    assert_eq!(request.ttl, None);
    assert!(request.deploy_poc_app);
    assert_eq!(request.on_failure, OnFailure::Rollback);
}

#[test]
fn eventbridge_not_opted_in_is_skipped_naming_the_tag() {
    let event = load("eventbridge/create-cluster-not-opted-in.json");
    match parse_execution_input(&event, &settings()) {
        Ok(Trigger::Skip { reason }) => {
            assert!(reason.contains(OPT_IN_TAG_KEY), "{reason}");
            assert!(reason.contains("demo"), "{reason}");
        }
        other => panic!("expected a skip, got {other:?}"),
    }
}

#[test]
fn eventbridge_legacy_field_names_the_cluster() {
    let event = load("eventbridge/create-cluster-legacy-field.json");
    let params = &event["detail"]["requestParameters"];
    assert!(params.get("name").is_none(), "the legacy sample has no `name`");
    let request = provision("eventbridge/create-cluster-legacy-field.json");
    assert_eq!(Some(request.cluster_name.as_str()), params["clusterName"].as_str());
}

#[test]
fn eventbridge_tags_choose_namespace_and_ttl() {
    let request = provision("eventbridge/create-cluster-with-namespace-and-ttl.json");
    assert_eq!(request.cluster_name, "demo");
    assert_eq!(request.namespace, "team-b");
    assert_eq!(request.ttl.as_deref(), Some("PT12H"));
}

#[test]
fn scheduled_reaper_event() {
    let event = load("scheduled/reaper.json");
    assert_eq!(event["detail-type"], "Scheduled Event");
    assert_eq!(event["source"], "aws.events");
    assert_eq!(event["detail"], serde_json::json!({}));
    // The reaper ignores its event; fed to the provisioning input by mistake it is refused.
    assert!(parse_execution_input(&event, &settings()).is_err());
}

#[test]
fn prepare_event() {
    let event: PrepareEvent = function_event(
        "functions/prepare.json",
        &["runId", "startedAt", "input", "executionArn", "attempt"],
    );
    assert!(event.execution_arn.as_deref().unwrap().ends_with(":provision-demo-1"));
    assert_eq!(event.run_id, "provision-demo-1");
    assert_eq!(event.started_at.as_deref(), Some("2026-11-25T10:00:00Z"));
    assert_eq!(event.attempt, 0);
    assert_eq!(event.input, load("console/minimal.json"));
    assert!(matches!(
        parse_execution_input(&event.input, &settings()),
        Ok(Trigger::Provision(_))
    ));
}

#[test]
fn fargate_profile_events() {
    let create: StepEvent<FargateAction> = step_event("functions/fargate-profile-create.json");
    assert_eq!(create.action, FargateAction::Create);
    assert_eq!(create.attempt, 0);
    assert_eq!(create.run.run_id, "provision-demo-1");
    assert_eq!(create.run.access.status, AccessStatus::Created);

    let namespace: StepEvent<FargateAction> = step_event("functions/fargate-profile-namespace.json");
    assert_eq!(namespace.action, FargateAction::Namespace);
    assert_eq!(namespace.run, create.run);

    let status: StepEvent<FargateAction> = step_event("functions/fargate-profile-status.json");
    assert_eq!(status.action, FargateAction::Status);
    assert!(status.attempt > 0);
    assert_eq!(status.run, create.run);
}

#[test]
fn efs_events() {
    let create: StepEvent<EfsAction> = step_event("functions/efs-create.json");
    assert_eq!(create.action, EfsAction::Create);
    assert_eq!(
        create.run.request.encryption.kms_key_alias.as_deref(),
        Some("alias/efs-poc")
    );
    assert_eq!(create.run.network.mount_target_subnets.len(), 3);

    let status: StepEvent<EfsAction> = step_event("functions/efs-status.json");
    assert_eq!(status.action, EfsAction::Status);
    assert!(status.attempt > 0);
    assert_eq!(status.run, create.run);
}

#[test]
fn cleanup_events() {
    for (name, action) in [
        ("fargate-profile", CleanupAction::FargateProfile),
        ("mount-targets", CleanupAction::MountTargets),
        ("file-system", CleanupAction::FileSystem),
        ("security-group", CleanupAction::SecurityGroup),
        ("kms-key", CleanupAction::KmsKey),
        ("access-entry", CleanupAction::AccessEntry),
        ("kubernetes", CleanupAction::Kubernetes),
    ] {
        let relative = format!("functions/cleanup-{name}.json");
        let event: CleanupEvent = function_event(&relative, &["action", "clusterName", "namespace", "attempt"]);
        assert_eq!(event.action, action, "{relative}");
        assert_eq!(event.cluster_name, "demo", "{relative}");
        assert_eq!(event.namespace, DEFAULT_NAMESPACE, "{relative}");
        assert_eq!(event.run_id, None, "{relative}: a manual cleanup, not a rollback");
    }
    let rollback: CleanupEvent = function_event(
        "functions/cleanup-rollback-file-system.json",
        &["action", "clusterName", "namespace", "runId", "attempt"],
    );
    assert_eq!(rollback.run_id.as_deref(), Some("provision-demo-1"));
}

#[test]
fn cleanup_lease_finish_and_request() {
    let lease: LeaseEvent = function_event(
        "functions/cleanup-lease.json",
        &["action", "clusterName", "namespace", "executionArn", "attempt"],
    );
    assert!(lease.execution_arn.contains(":execution:"));
    assert!(matches!(
        serde_json::from_value::<CleanupFunctionEvent>(load("functions/cleanup-lease.json")),
        Ok(CleanupFunctionEvent::Lease(_))
    ));
    let event: FinishEvent = function_event(
        "functions/cleanup-finish.json",
        &[
            "action",
            "clusterName",
            "namespace",
            "runId",
            "executionArn",
            "outcomes",
        ],
    );
    let err = finish(event).unwrap_err();
    assert_eq!(err.error_type(), "CleanupIncomplete");
    assert!(err.to_string().contains("kubernetes: KubernetesUnavailable"), "{err}");
    let request: CleanupRequest = function_event("console/cleanup.json", &["clusterName", "namespace", "reason"]);
    assert_eq!((request.cluster_name.as_str(), request.run_id), ("demo", None));
}

#[test]
fn rollback_events() {
    let failed: RollbackEvent = function_event(
        "functions/rollback-failed.json",
        &[
            "runId",
            "clusterName",
            "namespace",
            "onFailure",
            "executionArn",
            "outcome",
            "error",
        ],
    );
    assert_eq!(
        (failed.outcome, failed.on_failure),
        (RunOutcome::Failed, OnFailure::Rollback)
    );
    assert_eq!(failed.error["Error"], "FileSystemConflict");
    let succeeded: RollbackEvent = function_event(
        "functions/rollback-succeeded.json",
        &[
            "runId",
            "clusterName",
            "namespace",
            "onFailure",
            "executionArn",
            "outcome",
            "run",
        ],
    );
    assert_eq!(succeeded.outcome, RunOutcome::Succeeded);
    assert_eq!(
        succeeded.run.as_ref().map(|r| r.run_id.as_str()),
        Some("provision-demo-1")
    );
    let Ok(RollbackFunctionEvent::StatusChange(change)) =
        serde_json::from_value::<RollbackFunctionEvent>(load("eventbridge/provision-timed-out.json"))
    else {
        panic!("the timed-out sample is not a status change")
    };
    assert_eq!(
        (change.detail.status.as_str(), change.detail.name.as_str()),
        ("TIMED_OUT", "provision-demo-1")
    );
}

#[test]
fn console_adopting_a_namespace() {
    let request = provision("console/adopt-existing-namespace.json");
    assert_eq!(request.adopt, vec![Adoptable::Namespace]);
    assert!(request.adopts(Adoptable::Namespace) && !request.adopts(Adoptable::FargateProfile));
}

#[test]
fn storage_class_event() {
    let create: KubeStepEvent<StorageAction> = kube_step_event("functions/storage-class-create.json");
    assert_eq!(create.action, StorageAction::Create);
    assert_eq!(create.attempt, 0);
    let efs: StepEvent<EfsAction> = step_event("functions/efs-create.json");
    assert_eq!(create.run, efs.run, "the run the efs step worked on");
}

#[test]
fn poc_app_events() {
    let create: KubeStepEvent<PocAppAction> = kube_step_event("functions/poc-app-create.json");
    assert_eq!(create.action, PocAppAction::Create);
    assert_eq!(create.attempt, 0);
    assert!(create.run.request.deploy_poc_app);

    let status: KubeStepEvent<PocAppAction> = kube_step_event("functions/poc-app-status.json");
    assert_eq!(status.action, PocAppAction::Status);
    assert!(status.attempt > 0);
    assert_eq!(status.run, create.run);
    assert_eq!(status.file_system_id, create.file_system_id);
}

#[test]
fn validate_events() {
    let mut file_systems = BTreeSet::new();
    for (name, action) in [
        ("cross-read", ValidateAction::CrossRead),
        ("persistence", ValidateAction::Persistence),
        ("report", ValidateAction::Report),
    ] {
        let relative = format!("functions/validate-{name}.json");
        let event: KubeStepEvent<ValidateAction> = kube_step_event(&relative);
        assert_eq!(event.action, action, "{relative}");
        assert!(event.run.request.deploy_poc_app, "{relative}");
        file_systems.insert(event.file_system_id);
    }
    assert_eq!(file_systems.len(), 1, "one file system throughout");
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
