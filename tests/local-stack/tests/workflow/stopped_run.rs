//! A provisioning run stopped while it runs never reaches its `Catch`: as on AWS, its status-change
//! event (ABORTED) matches the rollback function's rule (`ProvisioningEndedUncaught` in
//! template.yaml), and the rollback starts the cleanup of what that run created.

use crate::support::*;
use aws_sdk_sfn::types::ExecutionStatus;
use efs_fargate_core::functions::Function;
use efs_fargate_core::input::DEFAULT_NAMESPACE;
use efs_fargate_core::ownership::Owner;
use efs_fargate_core::steps::rollback::execution_name;
use local_stack::LatencyConfig;
use local_stack::stack::{CLUSTER, StackOptions};
use serde_json::json;
use std::time::{Duration, Instant};

/// The status poll, EventBridge's delivery and the rollback, with room to spare.
const ROLLED_BACK: Duration = Duration::from_secs(15);

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
    let sfn = &stack.stack.moto_clients.sfn;
    let arn = sfn
        .start_execution()
        .state_machine_arn(&stack.stack.provision_arn)
        .name(run)
        .input(json!({"clusterName": CLUSTER, "deployPocApp": false}).to_string())
        .send()
        .await
        .expect("start")
        .execution_arn()
        .to_string();
    let began = Instant::now();
    while stack.entries(&arn, "WaitForFargateProfile").await == 0 {
        assert!(
            began.elapsed() < TIMEOUT,
            "the run never waited for its Fargate profile"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    sfn.stop_execution().execution_arn(&arn).send().await.expect("stop");
    let stopped = stack.stack.wait(&arn, TIMEOUT).await.expect("the run ends");
    assert_eq!(stopped.status, ExecutionStatus::Aborted, "{stopped:?}");
    assert!(!stack.ours_left().await.is_empty(), "the run had created something");

    let cleanups = stack.executions_when(&stack.stack.cleanup_arn, 1, ROLLED_BACK).await;
    assert_eq!(
        cleanups[0].name(),
        execution_name(&Owner::new(CLUSTER, DEFAULT_NAMESPACE), run)
    );
    let reason = stack.input_of(cleanups[0].execution_arn()).await["reason"].clone();
    assert_eq!(reason, format!("rollback of {run} after States.ABORTED"));
    let cleanup = stack.stack.wait(cleanups[0].execution_arn(), TIMEOUT).await.unwrap();
    succeeded(&cleanup);
    assert_eq!(stack.ours_left().await, Vec::<String>::new());
    // The event's one delivery, and nothing from the run itself: it never got to its Rollback.
    assert_eq!(stack.stack.gateway_stats().invocations_of(Function::Rollback), 1);
    assert_eq!(stack.entries(&arn, "Rollback").await, 0);
    stack.shutdown().await;
}
