//! The TTL reaper starts exactly one cleanup per expired run, across sweeps, and none for runs
//! whose TTL has not passed.

mod common;

use common::*;
use efs_fargate_core::steps::prepare::{PrepareEvent, PrepareOutput, prepare};
use efs_fargate_core::steps::reaper::{execution_name, sweep};
use jiff::{Timestamp, ToSpan};
use serde_json::json;
use workflow_tests::{moto, seed_network};

async fn provision_started_at(
    clients: &efs_fargate_core::clients::AwsClients,
    namespace: &str,
    ttl: Option<&str>,
    started_at: Timestamp,
) {
    let mut input = json!({"clusterName": CLUSTER, "namespace": namespace});
    if let Some(ttl) = ttl {
        input["ttl"] = json!(ttl);
    }
    let event = PrepareEvent {
        execution_arn: None,
        run_id: format!("run-{namespace}"),
        started_at: Some(started_at.to_string()),
        input,
        attempt: 0,
    };
    let PrepareOutput::Ready { run } = prepare(clients, &settings(), event).await.unwrap() else {
        panic!("not ready")
    };
    provision(clients, &run).await;
}

#[tokio::test]
async fn the_reaper_starts_one_cleanup_per_expired_run_across_two_sweeps() {
    let moto = moto().await;
    let clients = moto.clients();
    seed_network(&clients, CLUSTER).await;
    let now = Timestamp::now();
    provision_started_at(&clients, "expired", Some("PT1H"), now - 2.hours()).await;
    provision_started_at(&clients, "fresh", Some("PT8H"), now).await;
    provision_started_at(&clients, "no-ttl", None, now - 48.hours()).await;
    let cleanup_machine = stand_in_cleanup_state_machine(&clients).await;

    let first = sweep(&clients.efs, &clients.eks, &clients.sfn, cleanup_machine.as_str(), now)
        .await
        .unwrap();
    assert_eq!(first.started.len(), 1, "{first:?}");
    assert_eq!(first.started[0].namespace, "expired");
    assert_eq!(first.not_expired, 1);
    let second = sweep(
        &clients.efs,
        &clients.eks,
        &clients.sfn,
        cleanup_machine.as_str(),
        now + 5.minutes(),
    )
    .await
    .unwrap();
    assert_eq!(second.started.len() + second.already_started.len(), 1, "{second:?}");

    let (name, input) = only_execution(&clients, &cleanup_machine).await;
    assert_eq!(name, first.started[0].execution_name);
    assert_eq!(input["clusterName"], CLUSTER);
    assert_eq!(input["namespace"], "expired");
    assert_eq!(
        name,
        execution_name(CLUSTER, "expired", &first.started[0].expires_at, 1)
    );
}

#[tokio::test]
async fn nothing_expired_starts_nothing() {
    let moto = moto().await;
    let clients = moto.clients();
    seed_network(&clients, CLUSTER).await;
    provision_started_at(&clients, "fresh", Some("PT8H"), Timestamp::now()).await;
    let report = sweep(
        &clients.efs,
        &clients.eks,
        &clients.sfn,
        "arn:aws:states:us-east-1:123456789012:stateMachine:none",
        Timestamp::now(),
    )
    .await
    .unwrap();
    assert!(report.started.is_empty() && report.already_started.is_empty());
    assert_eq!(report.not_expired, 1);
}
