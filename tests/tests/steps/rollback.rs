//! The rollback function starts exactly one cleanup per failed run, scoped to that run, and none
//! with `retain`; it hands the run's lease to that cleanup, releases it on success and on
//! `retain`, and does the same for a run that timed out (EventBridge's status-change event).

use efs_fargate_core::clients::AwsClients;
use efs_fargate_core::input::OnFailure;
use efs_fargate_core::lease::{self, Claim, LeaseKey};
use efs_fargate_core::ownership::EXPIRES_AT_KEY;
use efs_fargate_core::steps::rollback::{
    RollbackEvent, RollbackFunctionEvent, RunOutcome, execution_arn, handle, rollback,
};
use jiff::Timestamp;
use serde_json::json;
use std::time::Duration;
use workflow_tests::{CLUSTER, LEASE_TABLE, NAMESPACE, World};

const RUN_ARN: &str = "arn:aws:states:us-east-1:123456789012:execution:provision:provision-demo-1";

fn event(on_failure: OnFailure) -> RollbackEvent {
    RollbackEvent {
        run_id: "provision-demo-1".into(),
        cluster_name: CLUSTER.into(),
        namespace: NAMESPACE.into(),
        on_failure,
        error: json!({"Error": "FargateProfileFailed", "Cause": "{}"}),
        execution_arn: Some(RUN_ARN.into()),
        outcome: RunOutcome::Failed,
        run: None,
        bootstrap_granted: false,
        execution_output: None,
    }
}

/// Asks for the namespace's lease as `holder`.
async fn acquire_as(clients: &AwsClients, holder: &str, duration: Duration) -> lease::Acquire {
    let claim = Claim {
        holder,
        purpose: "test",
        duration,
    };
    let key = LeaseKey::namespace(CLUSTER, NAMESPACE);
    lease::acquire(&clients.dynamodb, LEASE_TABLE, &key, &claim, Timestamp::now())
        .await
        .unwrap()
}

/// Who holds the namespace's lease (probing leaves it as it was).
async fn lease_holder(clients: &AwsClients) -> Option<String> {
    match acquire_as(clients, "probe", Duration::from_secs(60)).await {
        lease::Acquire::Held(held) => Some(held.holder),
        lease::Acquire::Acquired { .. } => {
            let key = LeaseKey::namespace(CLUSTER, NAMESPACE);
            lease::release(&clients.dynamodb, LEASE_TABLE, &key, "probe")
                .await
                .unwrap();
            None
        }
    }
}

async fn hold_lease(clients: &AwsClients, holder: &str) {
    acquire_as(clients, holder, Duration::from_secs(3600)).await;
}

#[tokio::test]
async fn rollback_starts_one_run_scoped_cleanup_and_hands_it_the_lease() {
    let mut world = World::empty().await.with_lease_table().await;
    let cleanup_machine = world.stand_in_cleanup_state_machine().await;
    world.settings.cleanup_state_machine_arn = Some(cleanup_machine.clone());
    let (clients, settings) = (&world.clients, &world.settings);

    hold_lease(clients, RUN_ARN).await;
    let retained = rollback(clients, settings, event(OnFailure::Retain)).await.unwrap();
    assert_eq!(retained.cleanup_execution_name, None);
    assert_eq!(lease_holder(clients).await, None, "retain releases the lease");

    hold_lease(clients, RUN_ARN).await;
    let first = rollback(clients, settings, event(OnFailure::Rollback)).await.unwrap();
    let second = rollback(clients, settings, event(OnFailure::Rollback)).await.unwrap();
    assert_eq!(first, second);

    let (name, input) = world.only_execution(&cleanup_machine).await;
    assert_eq!(Some(name.as_str()), first.cleanup_execution_name.as_deref());
    assert_eq!(input["namespace"], NAMESPACE);
    assert_eq!(input["runId"], "provision-demo-1", "the cleanup only undoes this run");
    assert!(
        input["reason"].as_str().unwrap().contains("FargateProfileFailed"),
        "{input}"
    );
    assert_eq!(
        lease_holder(clients).await,
        Some(execution_arn(cleanup_machine.as_str(), &name)),
        "the lease passed to the rollback's cleanup"
    );
}

#[tokio::test]
async fn a_successful_run_releases_its_lease() {
    let world = World::empty().await.with_lease_table().await;
    hold_lease(&world.clients, RUN_ARN).await;
    let ended = rollback(
        &world.clients,
        &world.settings,
        RollbackEvent {
            outcome: RunOutcome::Succeeded,
            error: json!(null),
            execution_output: Some(json!({"status": "provisioned", "namespace": "demo"})),
            ..event(OnFailure::Rollback)
        },
    )
    .await
    .unwrap();
    assert_eq!(ended.outcome, RunOutcome::Succeeded);
    // The state machine's end task passes this on as the execution's output.
    assert_eq!(
        ended.execution_output,
        Some(json!({"status": "provisioned", "namespace": "demo"}))
    );
    assert_eq!(ended.cleanup_execution_name, None);
    assert_eq!(lease_holder(&world.clients).await, None);
}

#[tokio::test]
async fn a_timed_out_run_is_rolled_back_from_its_status_change_event() {
    let mut world = World::empty().await;
    let cleanup_machine = world.stand_in_cleanup_state_machine().await;
    world.settings.cleanup_state_machine_arn = Some(cleanup_machine.clone());
    let change = |status: &str| -> RollbackFunctionEvent {
        serde_json::from_value(json!({
            "version": "0",
            "detail-type": "Step Functions Execution Status Change",
            "source": "aws.states",
            "detail": {
                "executionArn": RUN_ARN,
                "stateMachineArn": "arn:aws:states:us-east-1:123456789012:stateMachine:provision",
                "name": "provision-demo-1",
                "status": status,
                "input": json!({"clusterName": CLUSTER, "namespace": NAMESPACE}).to_string()
            }
        }))
        .unwrap()
    };
    for status in ["SUCCEEDED", "FAILED", "RUNNING"] {
        assert_eq!(
            handle(&world.clients, &world.settings, change(status)).await.unwrap(),
            None,
            "{status}"
        );
    }
    let output = handle(&world.clients, &world.settings, change("TIMED_OUT"))
        .await
        .unwrap()
        .unwrap();
    let (name, input) = world.only_execution(&cleanup_machine).await;
    assert_eq!(Some(name.as_str()), output.cleanup_execution_name.as_deref());
    assert_eq!(input["runId"], "provision-demo-1");
    assert!(
        input["reason"].as_str().unwrap().contains("States.TIMED_OUT"),
        "{input}"
    );
}

#[tokio::test]
async fn rollback_without_a_cleanup_state_machine_is_a_configuration_error() {
    let world = World::empty().await;
    let err = rollback(&world.clients, &world.settings, event(OnFailure::Rollback))
        .await
        .unwrap_err();
    assert_eq!(err.error_type(), "InvalidInput");
    assert!(err.to_string().contains("CLEANUP_STATE_MACHINE_ARN"));
}

#[tokio::test]
async fn a_successful_rerun_with_a_ttl_extends_the_expiry_and_one_without_keeps_it() {
    let world = World::new().await;
    let first = world.prepared(json!({"clusterName": CLUSTER, "ttl": "PT1H"})).await;
    world.provision(&first).await;
    let stamped = async || {
        world.inventory().await.file_systems[0]
            .tags
            .get(EXPIRES_AT_KEY)
            .cloned()
    };
    assert_eq!(stamped().await, first.expires_at);

    let ended = |run: efs_fargate_core::run::Run| RollbackEvent {
        outcome: RunOutcome::Succeeded,
        error: json!(null),
        run: Some(Box::new(run)),
        ..event(OnFailure::Rollback)
    };
    let mut rerun = first.clone();
    rerun.run_id = "provision-demo-2".into();
    rerun.expires_at = Some("2099-01-01T00:00:00Z".into());
    let output = rollback(&world.clients, &world.settings, ended(rerun)).await.unwrap();
    let expiry = output.expiry.unwrap();
    assert!(expiry.restamped);
    let extended = Some("2099-01-01T00:00:00Z".to_string());
    assert_eq!(stamped().await, extended);

    let mut without_ttl = first.clone();
    without_ttl.expires_at = None;
    let output = rollback(&world.clients, &world.settings, ended(without_ttl))
        .await
        .unwrap();
    let expiry = output.expiry.unwrap();
    assert!(!expiry.restamped);
    assert_eq!(expiry.expires_at, extended, "reported, not silently inherited");
    assert_eq!(stamped().await, extended);
}
