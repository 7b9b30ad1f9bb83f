//! The rollback function starts exactly one cleanup per failed run, and none with `retain`.

mod common;

use common::*;
use efs_fargate_core::input::OnFailure;
use efs_fargate_core::settings::Settings;
use efs_fargate_core::steps::rollback::{RollbackEvent, rollback};
use serde_json::json;
use workflow_tests::moto;

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

    let (name, input) = only_execution(&clients, &cleanup_machine).await;
    assert_eq!(Some(name.as_str()), first.cleanup_execution_name.as_deref());
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
