//! The function samples: the event each Lambda function gets from the state machines (or, for the
//! rollback, from EventBridge), one per action.

use efs_fargate_core::input::{DEFAULT_NAMESPACE, OnFailure, Trigger, parse_execution_input};
use efs_fargate_core::run::{AccessStatus, StepEvent};
use efs_fargate_core::steps::cleanup::{
    CleanupAction, CleanupEvent, CleanupFunctionEvent, CleanupRequest, FinishEvent, LeaseEvent, finish,
};
use efs_fargate_core::steps::efs::EfsAction;
use efs_fargate_core::steps::fargate::FargateAction;
use efs_fargate_core::steps::k8s::KubeStepEvent;
use efs_fargate_core::steps::k8s::poc_app::PocAppAction;
use efs_fargate_core::steps::k8s::validate::ValidateAction;
use efs_fargate_core::steps::prepare::PrepareEvent;
use efs_fargate_core::steps::rollback::{RollbackEvent, RollbackFunctionEvent, RunOutcome};
use efs_fargate_core::steps::storage_class::StorageAction;
use std::collections::BTreeSet;

use crate::samples::{function_event, kube_step_event, load, settings, status_event, step_event};

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
fn prepare_doctor_and_dry_run_events() {
    use efs_fargate_core::steps::prepare::PrepareFunctionEvent;
    let doctor: PrepareFunctionEvent =
        serde_json::from_value(load("functions/prepare-doctor.json")).expect("the doctor action");
    let PrepareFunctionEvent::Doctor(doctor) = doctor else {
        panic!("not the doctor: {doctor:?}")
    };
    assert_eq!(doctor.input["clusterName"], "demo");
    let Ok(Trigger::Plan(planned)) = parse_execution_input(&load("console/dry-run.json"), &settings()) else {
        panic!("console/dry-run.json is a dry run")
    };
    assert_eq!(planned.encryption.kms_key_alias.as_deref(), Some("alias/efs-poc"));
}

#[test]
fn fargate_profile_events() {
    let namespace: StepEvent<FargateAction> = step_event("functions/fargate-profile-namespace.json");
    assert_eq!(namespace.action, FargateAction::Namespace);
    assert_eq!(namespace.run.run_id, "provision-demo-1");
    assert_eq!(namespace.run.access.status, AccessStatus::Created);

    status_event(
        "functions/fargate-profile-converge.json",
        FargateAction::Converge,
        &namespace.run,
    );
}

#[test]
fn efs_events() {
    let converge: StepEvent<EfsAction> = step_event("functions/efs-converge.json");
    assert_eq!(converge.action, EfsAction::Converge);
    assert!(converge.attempt > 0, "a later poll");
    assert_eq!(
        converge.run.request.encryption.kms_key_alias.as_deref(),
        Some("alias/efs-poc")
    );
    assert_eq!(converge.run.network.mount_target_subnets.len(), 3);
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
        ("alarms", CleanupAction::Alarms),
        ("insights-role", CleanupAction::InsightsRole),
    ] {
        let relative = format!("functions/cleanup-{name}.json");
        let event: CleanupEvent =
            function_event(&relative, &["action", "clusterName", "namespace", "attempt", "removed"]);
        assert_eq!(event.action, action, "{relative}");
        assert_eq!(event.cluster_name, "demo", "{relative}");
        assert_eq!(event.namespace, DEFAULT_NAMESPACE, "{relative}");
        assert_eq!(event.run_id, None, "{relative}: a manual cleanup, not a rollback");
    }
    let rollback: CleanupEvent = function_event(
        "functions/cleanup-rollback-file-system.json",
        &["action", "clusterName", "namespace", "runId", "generation", "attempt"],
    );
    assert_eq!(rollback.run_id.as_deref(), Some("provision-demo-1"));
    assert_eq!(
        rollback.generation,
        Some(1),
        "a rollback deletes nothing once a later run holds the namespace"
    );
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

/// The keys of every rollback event; a failed run's adds `error`, a succeeded run's `run`.
const ROLLBACK_KEYS: &[&str] = &[
    "runId",
    "clusterName",
    "namespace",
    "onFailure",
    "executionArn",
    "outcome",
];

#[test]
fn rollback_events() {
    let failed: RollbackEvent = function_event("functions/rollback-failed.json", &[ROLLBACK_KEYS, &["error"]].concat());
    assert_eq!(
        (failed.outcome, failed.on_failure),
        (RunOutcome::Failed, OnFailure::Rollback)
    );
    assert_eq!(failed.error["Error"], "FileSystemConflict");
    let succeeded: RollbackEvent =
        function_event("functions/rollback-succeeded.json", &[ROLLBACK_KEYS, &["run"]].concat());
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
fn storage_class_event() {
    let create: KubeStepEvent<StorageAction> = kube_step_event("functions/storage-class-create.json");
    assert_eq!(create.action, StorageAction::Create);
    assert_eq!(create.attempt, 0);
    let efs: StepEvent<EfsAction> = step_event("functions/efs-converge.json");
    assert_eq!(create.run, efs.run, "the run the efs step worked on");
}

#[test]
fn poc_app_events() {
    let converge: KubeStepEvent<PocAppAction> = kube_step_event("functions/poc-app-converge.json");
    assert_eq!(converge.action, PocAppAction::Converge);
    assert!(converge.attempt > 0, "a later poll");
    assert!(converge.run.request.deploy_poc_app);
    let storage: KubeStepEvent<StorageAction> = kube_step_event("functions/storage-class-create.json");
    assert_eq!(converge.run, storage.run);
    assert_eq!(converge.file_system_id, storage.file_system_id);
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
