//! The rollback function starts exactly one cleanup per failed run, scoped to that run and the
//! generation it held, and none with `retain`; it starts the cleanup before handing it the run's
//! lease, releases the lease on success and on `retain`, does the same for a run that timed out,
//! was stopped or failed uncaught (EventBridge's status-change event), and never undoes a later
//! run: a superseded rollback deletes nothing.

use efs_fargate_core::clients::AwsClients;
use efs_fargate_core::input::OnFailure;
use efs_fargate_core::lease::{self, Claim, LeaseKey};
use efs_fargate_core::steps::rollback::{
    RollbackEvent, RollbackFunctionEvent, RunOutcome, execution_arn, handle, rollback,
};
use jiff::Timestamp;
use serde_json::json;
use std::time::Duration;
use workflow_tests::{CLUSTER, LEASE_TABLE, NAMESPACE, World};

const RUN: &str = "provision-demo-1";
const RUN_ARN: &str = "arn:aws:states:us-east-1:123456789012:execution:provision:provision-demo-1";

fn event(on_failure: OnFailure) -> RollbackEvent {
    RollbackEvent {
        run_id: RUN.into(),
        cluster_name: CLUSTER.into(),
        namespace: NAMESPACE.into(),
        on_failure,
        error: json!({"Error": "FargateProfileFailed", "Cause": "{}"}),
        execution_arn: Some(RUN_ARN.into()),
        outcome: RunOutcome::Failed,
        run: None,
        execution_output: None,
    }
}

/// Begins `run_id`'s generation of the namespace in the world's ledger, as `prepare` does.
async fn begin(world: &World, run_id: &str) -> u64 {
    world
        .ledger()
        .begin_run(CLUSTER, NAMESPACE, run_id, None, None)
        .await
        .unwrap()
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
async fn rollback_starts_one_run_and_generation_scoped_cleanup_and_hands_it_the_lease() {
    let mut world = World::empty().await.with_lease_table().await;
    let cleanup_machine = world.stand_in_cleanup_state_machine().await;
    world.settings.cleanup_state_machine_arn = Some(cleanup_machine.clone());
    let generation = begin(&world, RUN).await;
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
    assert_eq!(input["runId"], RUN, "the cleanup only undoes this run");
    assert_eq!(
        input["generation"], generation,
        "and nothing once a later run holds the namespace"
    );
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

/// The late-rollback story: run P failed (or was stopped) and ended; run Q began a later
/// generation of the namespace and reused P's resources. P's rollback, arriving late, starts
/// nothing and says it is superseded.
#[tokio::test]
async fn a_late_rollback_of_a_superseded_run_starts_nothing() {
    let mut world = World::empty().await.with_lease_table().await;
    let cleanup_machine = world.stand_in_cleanup_state_machine().await;
    world.settings.cleanup_state_machine_arn = Some(cleanup_machine.clone());
    begin(&world, RUN).await;
    let later = begin(&world, "provision-demo-2").await;
    assert_eq!(later, 2);
    hold_lease(
        &world.clients,
        "arn:aws:states:us-east-1:123456789012:execution:provision:provision-demo-2",
    )
    .await;
    let output = rollback(&world.clients, &world.settings, event(OnFailure::Rollback))
        .await
        .unwrap();
    assert_eq!(output.cleanup_execution_name, None);
    let why = output.superseded.expect("superseded");
    assert!(
        why.contains("provision-demo-2") && why.contains("generation 2"),
        "{why}"
    );
    let executions = world
        .clients
        .sfn
        .list_executions()
        .state_machine_arn(&cleanup_machine)
        .send()
        .await
        .unwrap();
    assert!(executions.executions().is_empty());
    assert_eq!(
        lease_holder(&world.clients).await.as_deref(),
        Some("arn:aws:states:us-east-1:123456789012:execution:provision:provision-demo-2"),
        "the later run keeps its lease"
    );
}

/// StartExecution throttled after the rollback began: nothing is handed over (the cleanup is
/// started first), so a later run takes the lease as from any ended run; the rollback's retry
/// then finds itself superseded.
#[tokio::test]
async fn a_failed_start_hands_nothing_over_and_the_retry_is_superseded() {
    let mut world = World::empty().await.with_lease_table().await;
    begin(&world, RUN).await;
    hold_lease(&world.clients, RUN_ARN).await;
    world.settings.cleanup_state_machine_arn =
        Some("arn:aws:states:us-east-1:123456789012:stateMachine:missing".into());
    let err = rollback(&world.clients, &world.settings, event(OnFailure::Rollback))
        .await
        .unwrap_err();
    assert_ne!(err.error_type(), "InvalidInput", "{err}");
    assert_eq!(
        lease_holder(&world.clients).await.as_deref(),
        Some(RUN_ARN),
        "not handed to a cleanup that does not exist"
    );
    begin(&world, "provision-demo-2").await;
    let cleanup_machine = world.stand_in_cleanup_state_machine().await;
    world.settings.cleanup_state_machine_arn = Some(cleanup_machine.clone());
    let retried = rollback(&world.clients, &world.settings, event(OnFailure::Rollback))
        .await
        .unwrap();
    assert!(retried.superseded.is_some(), "{retried:?}");
    assert_eq!(retried.cleanup_execution_name, None);
}

#[tokio::test]
async fn a_successful_run_releases_its_lease() {
    let world = World::empty().await.with_lease_table().await;
    begin(&world, RUN).await;
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
    let header = world
        .ledger()
        .namespace(CLUSTER, NAMESPACE)
        .await
        .unwrap()
        .header
        .unwrap();
    assert!(!header.in_flight, "the run is no longer in flight");
}

#[tokio::test]
async fn a_run_that_timed_out_was_stopped_or_failed_is_rolled_back_from_its_status_change_event() {
    let mut world = World::empty().await;
    let cleanup_machine = world.stand_in_cleanup_state_machine().await;
    world.settings.cleanup_state_machine_arn = Some(cleanup_machine.clone());
    begin(&world, RUN).await;
    let change = |status: &str| -> RollbackFunctionEvent {
        serde_json::from_value(json!({
            "version": "0",
            "detail-type": "Step Functions Execution Status Change",
            "source": "aws.states",
            "detail": {
                "executionArn": RUN_ARN,
                "stateMachineArn": "arn:aws:states:us-east-1:123456789012:stateMachine:provision",
                "name": RUN,
                "status": status,
                "input": json!({"clusterName": CLUSTER, "namespace": NAMESPACE}).to_string()
            }
        }))
        .unwrap()
    };
    for status in ["SUCCEEDED", "RUNNING"] {
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
    assert_eq!(input["runId"], RUN);
    assert!(
        input["reason"].as_str().unwrap().contains("States.TIMED_OUT"),
        "{input}"
    );
    // A failure (an uncaught States.Runtime, or one the Catch already rolled back) repeats the
    // same rollback: the same cleanup, never a second one.
    for status in ["FAILED", "ABORTED"] {
        let again = handle(&world.clients, &world.settings, change(status))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(again.cleanup_execution_name, output.cleanup_execution_name, "{status}");
    }
    world.only_execution(&cleanup_machine).await;
}

#[tokio::test]
async fn rollback_without_a_cleanup_state_machine_is_a_configuration_error() {
    let world = World::empty().await;
    begin(&world, RUN).await;
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
        world
            .ledger()
            .namespace(CLUSTER, NAMESPACE)
            .await
            .unwrap()
            .header
            .and_then(|h| h.expires_at)
    };
    assert_eq!(stamped().await, first.expires_at);

    let ended = |run: efs_fargate_core::run::Run| RollbackEvent {
        run_id: run.run_id.clone(),
        outcome: RunOutcome::Succeeded,
        error: json!(null),
        run: Some(Box::new(run)),
        ..event(OnFailure::Rollback)
    };
    let mut rerun = first.clone();
    rerun.run_id = "provision-demo-2".into();
    begin(&world, &rerun.run_id).await;
    rerun.expires_at = Some("2099-01-01T00:00:00Z".into());
    let output = rollback(&world.clients, &world.settings, ended(rerun)).await.unwrap();
    let expiry = output.expiry.unwrap();
    assert!(expiry.restamped);
    let extended = Some("2099-01-01T00:00:00Z".to_string());
    assert_eq!(stamped().await, extended);

    let mut without_ttl = first.clone();
    without_ttl.run_id = "provision-demo-3".into();
    begin(&world, &without_ttl.run_id).await;
    without_ttl.expires_at = None;
    let output = rollback(&world.clients, &world.settings, ended(without_ttl))
        .await
        .unwrap();
    let expiry = output.expiry.unwrap();
    assert!(!expiry.restamped);
    assert_eq!(expiry.expires_at, extended, "reported, not silently inherited");
    assert_eq!(stamped().await, extended);
}
