//! A failure in epic04 rolls back (or, with `retain`, keeps everything); the TTL reaper cleans up
//! through the cleanup state machine.

use crate::support::*;
use aws_sdk_sfn::types::ExecutionStatus;
use efs_fargate_core::input::DEFAULT_NAMESPACE;
use efs_fargate_core::ledger::Ledger;
use efs_fargate_core::steps::reaper::sweep;
use jiff::{Timestamp, ToSpan};
use local_stack::stack::{CLUSTER, StackOptions};
use serde_json::json;
use std::time::Duration;

/// A PersistentVolume nobody in the workflow owns, under the name epic04 needs: epic04 must refuse it.
async fn block_epic04(stack: &Stack) {
    let client = stack.kube_client();
    let pv = json!({
        "apiVersion": "v1", "kind": "PersistentVolume",
        "metadata": {"name": efs_fargate_core::steps::k8s::poc_app::persistent_volume_name(DEFAULT_NAMESPACE)},
        "spec": {"capacity": {"storage": "1Mi"}, "accessModes": ["ReadWriteMany"], "persistentVolumeReclaimPolicy": "Retain",
                 "storageClassName": "efs-sc", "csi": {"driver": "efs.csi.aws.com", "volumeHandle": "fs-00000000"}}
    });
    let pv: k8s_openapi::api::core::v1::PersistentVolume = serde_json::from_value(pv).expect("a PV");
    kube::Api::<k8s_openapi::api::core::v1::PersistentVolume>::all(client)
        .create(&kube::api::PostParams::default(), &pv)
        .await
        .expect("a foreign PV");
}

#[tokio::test]
async fn a_failure_in_epic04_rolls_back_and_leaves_nothing() {
    let stack = stack(StackOptions::default()).await;
    block_epic04(&stack).await;
    let execution = stack
        .provision("provision-fails", json!({"clusterName": CLUSTER}))
        .await;
    assert_eq!(execution.status, ExecutionStatus::Failed, "{execution:?}");
    assert_eq!(stack.entries(&execution.execution_arn, "Rollback").await, 1);

    let cleanups = stack.stack.executions(&stack.stack.cleanup_arn).await.unwrap();
    assert_eq!(cleanups.len(), 1, "one rollback cleanup");
    let cleanup = stack.stack.wait(cleanups[0].execution_arn(), TIMEOUT).await.unwrap();
    succeeded(&cleanup);
    assert_eq!(stack.ours_left().await, Vec::<String>::new());
    stack.shutdown().await;
}

#[tokio::test]
async fn with_retain_a_failure_keeps_everything() {
    let stack = stack(StackOptions::default()).await;
    block_epic04(&stack).await;
    let execution = stack
        .provision(
            "provision-retain",
            json!({"clusterName": CLUSTER, "onFailure": "retain"}),
        )
        .await;
    assert_eq!(execution.status, ExecutionStatus::Failed, "{execution:?}");
    assert!(
        stack
            .stack
            .executions(&stack.stack.cleanup_arn)
            .await
            .unwrap()
            .is_empty(),
        "no cleanup started"
    );
    let left = stack.ours_left().await;
    assert!(
        left.iter().any(|r| r.starts_with("profile")) && left.iter().any(|r| r.starts_with("file system")),
        "{left:?}"
    );
    stack.shutdown().await;
}

#[tokio::test]
async fn an_expired_run_is_cleaned_up_by_the_reaper_through_the_cleanup_state_machine() {
    let stack = stack(StackOptions::default()).await;
    let execution = stack
        .provision(
            "provision-ttl",
            json!({"clusterName": CLUSTER, "ttl": "PT1H", "deployPocApp": false}),
        )
        .await;
    succeeded(&execution);
    let clients = &stack.stack.moto_clients;
    let later = Timestamp::now() + 2.hours();
    let ledger = Ledger::of(&clients.dynamodb, &workflow_tests::settings()).unwrap();
    let sweep_later = || sweep(&ledger, &clients.eks, &clients.sfn, &stack.stack.cleanup_arn, later);
    let report = sweep_later().await.unwrap();
    assert_eq!(report.started.len(), 1, "{report:?}");
    let again = sweep_later().await.unwrap();
    assert_eq!(again.started.len() + again.already_started.len(), 1, "{again:?}");
    let cleanups = stack.stack.executions(&stack.stack.cleanup_arn).await.unwrap();
    assert_eq!(cleanups.len(), 1, "exactly one cleanup");
    let cleanup = stack.stack.wait(cleanups[0].execution_arn(), TIMEOUT).await.unwrap();
    succeeded(&cleanup);
    assert_eq!(stack.ours_left().await, Vec::<String>::new());
    tokio::time::sleep(Duration::from_millis(10)).await;
    stack.shutdown().await;
}
