//! The polling loops really loop under injected latency, and injected AWS faults are survived.

use crate::support::*;
use local_stack::stack::{CLUSTER, StackOptions};
use local_stack::{FaultConfig, FaultKind, LatencyConfig};
use serde_json::json;
use std::time::Duration;

#[tokio::test]
async fn status_loops_wait_while_resources_are_being_created() {
    let latency = LatencyConfig {
        create: Duration::from_secs(3),
        delete: Duration::from_secs(2),
        ..LatencyConfig::default()
    };
    let stack = stack(StackOptions {
        latency,
        ..StackOptions::default()
    })
    .await;
    let execution = stack
        .provision(
            "provision-latency",
            json!({"clusterName": CLUSTER, "deployPocApp": false}),
        )
        .await;
    succeeded(&execution);
    assert!(
        stack.entries(&execution.execution_arn, "WaitForFargateProfile").await >= 2,
        "the profile loop looped"
    );
    assert!(
        stack.entries(&execution.execution_arn, "WaitForMountTargets").await >= 2,
        "the mount-target loop looped"
    );

    let cleanup = stack
        .cleanup("cleanup-latency", efs_fargate_core::input::DEFAULT_NAMESPACE)
        .await;
    assert!(
        stack.entries(&cleanup.execution_arn, "WaitForFargateProfile").await >= 1,
        "cleanup waited for DELETING"
    );
    assert_eq!(stack.ours_left().await, Vec::<String>::new());
    stack.shutdown().await;
}

#[tokio::test]
async fn ten_percent_injected_aws_faults_still_end_in_success() {
    let faults = FaultConfig {
        rate: 0.1,
        seed: 7,
        kinds: vec![FaultKind::Throttle, FaultKind::ServerError, FaultKind::Drop],
    };
    let stack = stack(StackOptions {
        faults: Some(faults),
        ..StackOptions::default()
    })
    .await;
    let execution = stack
        .provision("provision-faults", json!({"clusterName": CLUSTER}))
        .await;
    succeeded(&execution);
    let cleanup = stack
        .cleanup("cleanup-faults", efs_fargate_core::input::DEFAULT_NAMESPACE)
        .await;
    succeeded(&cleanup);
    let stats = stack.stack.gateway_stats();
    assert!(stats.faults_total() > 0, "{stats:?}");
    assert_eq!(stack.ours_left().await, Vec::<String>::new());
    stack.shutdown().await;
}
