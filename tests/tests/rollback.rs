//! The rollback function starts exactly one cleanup per failed run, and none with `retain`.

mod common;

use common::*;
use efs_fargate_core::input::OnFailure;
use efs_fargate_core::settings::Settings;
use efs_fargate_core::steps::rollback::{RollbackEvent, rollback};
use serde_json::{Value, json};
use workflow_tests::{OrPanic, moto};

fn event(on_failure: OnFailure) -> RollbackEvent {
    RollbackEvent {
        run_id: "provision-demo-1".into(),
        cluster_name: CLUSTER.into(),
        namespace: NAMESPACE.into(),
        on_failure,
        error: json!({"Error": "FargateProfileFailed", "Cause": "{}"}),
    }
}

#[tokio::test]
async fn rollback_starts_one_cleanup_and_retain_starts_none() {
    let moto = moto().await;
    let clients = moto.clients();
    let cleanup_machine = stand_in_cleanup_state_machine(&clients).await;
    let settings = Settings {
        cleanup_state_machine_arn: Some(cleanup_machine.as_str().into()),
        ..settings()
    };

    let retained = rollback(&clients.sfn, &settings, event(OnFailure::Retain))
        .await
        .unwrap();
    assert_eq!(retained.cleanup_execution_name, None);
    let first = rollback(&clients.sfn, &settings, event(OnFailure::Rollback))
        .await
        .unwrap();
    let second = rollback(&clients.sfn, &settings, event(OnFailure::Rollback))
        .await
        .unwrap();
    assert_eq!(first, second);

    let executions = clients
        .sfn
        .list_executions()
        .state_machine_arn(cleanup_machine.as_str())
        .send()
        .await
        .or_panic("sfn list_executions");
    assert_eq!(executions.executions().len(), 1);
    let execution = &executions.executions()[0];
    assert_eq!(Some(execution.name()), first.cleanup_execution_name.as_deref());
    let described = clients
        .sfn
        .describe_execution()
        .execution_arn(execution.execution_arn())
        .send()
        .await
        .or_panic("describe");
    let input: Value = serde_json::from_str(described.input().unwrap()).unwrap();
    assert_eq!(input["namespace"], NAMESPACE);
    assert!(
        input["reason"].as_str().unwrap().contains("FargateProfileFailed"),
        "{input}"
    );
}

#[tokio::test]
async fn rollback_without_a_cleanup_state_machine_is_a_configuration_error() {
    let moto = moto().await;
    let clients = moto.clients();
    let err = rollback(&clients.sfn, &settings(), event(OnFailure::Rollback))
        .await
        .unwrap_err();
    assert_eq!(err.error_type(), "InvalidInput");
    assert!(err.to_string().contains("CLEANUP_STATE_MACHINE_ARN"));
}
