//! Runs that end without reaching their `Catch`: stopped (ABORTED), or failed on `States.Runtime`,
//! which no `Catch` catches. As on AWS, their status-change event matches the rollback function's
//! rule (`ProvisioningEndedUncaught` in template.yaml), and the rollback starts the cleanup of what
//! that run created; delivered late, after a later run has taken the namespace, it deletes nothing.

use crate::support::*;
use aws_sdk_efs::types::LifeCycleState;
use aws_sdk_sfn::types::ExecutionStatus;
use efs_fargate_core::functions::Function;
use efs_fargate_core::input::DEFAULT_NAMESPACE;
use efs_fargate_core::ownership::Owner;
use efs_fargate_core::steps::rollback::execution_name;
use local_stack::LatencyConfig;
use local_stack::stack::{CLUSTER, StackOptions};
use serde_json::json;
use std::time::Duration;

/// The status poll, EventBridge's delivery and the rollback, with room to spare.
const ROLLED_BACK: Duration = Duration::from_secs(15);

/// The run's one rollback cleanup, started from its status-change event with the run's error as
/// its reason, succeeded and left nothing of ours.
async fn rolled_back_from_its_event(stack: &Stack, run: &str, error: &str) {
    let cleanups = stack.executions_when(&stack.stack.cleanup_arn, 1, ROLLED_BACK).await;
    assert_eq!(
        cleanups[0].name(),
        execution_name(&Owner::new(CLUSTER, DEFAULT_NAMESPACE), run)
    );
    let reason = stack.input_of(cleanups[0].execution_arn()).await["reason"].clone();
    assert_eq!(reason, format!("rollback of {run} after {error}"));
    let cleanup = stack.stack.wait(cleanups[0].execution_arn(), TIMEOUT).await.unwrap();
    succeeded(&cleanup);
    assert_eq!(stack.ours_left().await, Vec::<String>::new());
}

#[tokio::test]
async fn a_stopped_provisioning_run_is_rolled_back_by_its_status_change_event() {
    // New resources stay CREATING for a while, so the run is caught waiting for them.
    let latency = LatencyConfig {
        create: Duration::from_secs(3),
        ..LatencyConfig::default()
    };
    let stack = stack(StackOptions {
        latency,
        schedules: false,
        ..StackOptions::default()
    })
    .await;
    let run = "provision-stopped";
    let arn = stack.provision_stopped_while_waiting(run).await;
    assert!(!stack.ours_left().await.is_empty(), "the run had created something");

    rolled_back_from_its_event(&stack, run, "States.ABORTED").await;
    // The event's one delivery, and nothing from the run itself: it never got to its Rollback.
    assert_eq!(stack.stack.gateway_stats().invocations_of(Function::Rollback), 1);
    assert_eq!(stack.entries(&arn, "Rollback").await, 0);
    stack.shutdown().await;
}

/// Run P is stopped after its file system exists, Q re-provisions the namespace (reusing what P
/// made) and succeeds, and P's status-change event only reaches the rollback after Q's `prepare`:
/// P's rollback is superseded and deletes nothing of what Q now uses.
#[tokio::test]
async fn a_late_rollback_never_undoes_the_run_that_came_after_it() {
    let latency = LatencyConfig {
        create: Duration::from_secs(3),
        ..LatencyConfig::default()
    };
    let stack = stack(StackOptions {
        latency,
        schedules: false,
        status_changes: false,
        ..StackOptions::default()
    })
    .await;
    let input = json!({"clusterName": CLUSTER});
    let first = stack.start("provision-p", input.clone()).await;
    stack.reached(&first, "WaitForMountTargets").await;
    let sfn = &stack.stack.moto_clients.sfn;
    sfn.stop_execution().execution_arn(&first).send().await.expect("stop");
    let stopped = stack.stack.wait(&first, TIMEOUT).await.expect("P ends");
    assert_eq!(stopped.status, ExecutionStatus::Aborted, "{stopped:?}");

    let second = stack.start("provision-q", input).await;
    stack.reached(&second, "StartRun").await;
    let late = stack.stack.status_change(&first).await.expect("P's event");
    assert_eq!(late["detail"]["status"], "ABORTED", "{late}");
    let rollback = stack
        .stack
        .functions()
        .invoke(Function::Rollback, late)
        .await
        .expect("the rollback answers");
    assert!(
        rollback["superseded"]
            .as_str()
            .is_some_and(|s| s.contains("provision-q")),
        "{rollback}"
    );
    assert!(rollback.get("cleanupExecutionName").is_none(), "{rollback}");

    let succeeded_run = stack.stack.wait(&second, TIMEOUT).await.expect("Q ends");
    succeeded(&succeeded_run);
    let fs = succeeded_run.output["resources"]["fileSystemId"]
        .as_str()
        .unwrap()
        .to_string();
    let cleanups = stack.stack.executions(&stack.stack.cleanup_arn).await.unwrap();
    assert!(cleanups.is_empty(), "P's rollback started nothing: {cleanups:?}");
    let described = stack
        .stack
        .moto_clients
        .efs
        .describe_file_systems()
        .file_system_id(&fs)
        .send()
        .await
        .expect("Q's file system is still there");
    assert_eq!(
        described.file_systems()[0].life_cycle_state(),
        &LifeCycleState::Available
    );
    assert!(stack.stack.kube.object("Namespace", None, DEFAULT_NAMESPACE).is_some());
    let files = stack.stack.kube.store_files(&fs);
    for file in ["out1.txt", "out2.txt"] {
        assert!(
            files
                .iter()
                .any(|(name, lines)| name.ends_with(file) && !lines.is_empty()),
            "{file} in {files:?}"
        );
    }
    // Delivered again (EventBridge delivers at least once): still superseded, still nothing.
    let again = stack.stack.status_change(&first).await.expect("P's event");
    let rollback = stack.stack.functions().invoke(Function::Rollback, again).await.unwrap();
    assert!(rollback["superseded"].is_string(), "{rollback}");
    assert!(
        stack
            .stack
            .executions(&stack.stack.cleanup_arn)
            .await
            .unwrap()
            .is_empty()
    );
    stack.shutdown().await;
}

#[tokio::test]
async fn a_run_that_fails_on_states_runtime_is_rolled_back_by_its_status_change_event() {
    // The PoC app's first answer asks for a half-second wait, which the Wait state cannot do: by
    // then the run has made its namespace, profile, file system and volumes.
    let stack = stack(StackOptions {
        schedules: false,
        fractional_wait_of: Some(Function::PocApp),
        ..StackOptions::default()
    })
    .await;
    let run = "provision-runtime";
    let failed = stack.provision(run, json!({"clusterName": CLUSTER})).await;
    assert_eq!(failed.status, ExecutionStatus::Failed, "{failed:?}");
    assert_eq!(failed.error.as_deref(), Some("States.Runtime"), "{failed:?}");
    assert_eq!(
        stack.entries(&failed.execution_arn, "Rollback").await,
        0,
        "no Catch caught it: {:?}",
        stack.entered_states(&failed.execution_arn).await
    );
    assert!(!stack.ours_left().await.is_empty(), "the run had created something");

    rolled_back_from_its_event(&stack, run, "States.Runtime").await;
    assert!(stack.stack.kube.object("Namespace", None, DEFAULT_NAMESPACE).is_none());
    stack.shutdown().await;
}
