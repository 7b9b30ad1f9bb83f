//! Fault injection on the handlers' AWS calls: the SDK retries every injected fault (standard
//! retry mode), a call that keeps failing is classified as retryable by the workflow, and nothing
//! but the handlers' services is ever faulted.

use efs_fargate_core::WorkflowError;
use efs_fargate_core::clients::AwsClients;
use efs_fargate_core::functions::Function;
use local_stack::{FaultConfig, FaultKind};

use crate::support::{invoke, start_gateway, via};

/// One cheap read per service the handlers call, each classified as the steps do. One after the
/// other, so a seed gives the same faults to the same calls every time.
async fn one_call_per_service(clients: &AwsClients) -> [(&'static str, Result<(), WorkflowError>); 5] {
    let ec2 = clients.ec2.describe_vpcs().send().await;
    let efs = clients.efs.describe_file_systems().send().await;
    let eks = clients.eks.list_clusters().send().await;
    let kms = clients.kms.list_keys().send().await;
    let sts = clients.sts.get_caller_identity().send().await;
    [
        (
            "ec2",
            ec2.map(drop)
                .map_err(|e| WorkflowError::from_sdk("ec2:DescribeVpcs", e)),
        ),
        (
            "efs",
            efs.map(drop)
                .map_err(|e| WorkflowError::from_sdk("efs:DescribeFileSystems", e)),
        ),
        (
            "eks",
            eks.map(drop)
                .map_err(|e| WorkflowError::from_sdk("eks:ListClusters", e)),
        ),
        (
            "kms",
            kms.map(drop).map_err(|e| WorkflowError::from_sdk("kms:ListKeys", e)),
        ),
        (
            "sts",
            sts.map(drop)
                .map_err(|e| WorkflowError::from_sdk("sts:GetCallerIdentity", e)),
        ),
    ]
}

fn always(kind: FaultKind) -> FaultConfig {
    FaultConfig {
        rate: 1.0,
        seed: 1,
        kinds: vec![kind],
    }
}

/// With every request failing as `kind`, each call is attempted 3 times (the SDK retried the
/// fault) and then surfaces as `expected`, in every protocol.
async fn every_call_fails_as(kind: FaultKind, expected: &str) {
    let moto = workflow_tests::moto().await;
    let (gateway, clients) = start_gateway(&moto.sdk_config(), &moto.endpoint(), |c| c.with_faults(always(kind)));

    for (service, outcome) in one_call_per_service(&clients).await {
        let error = outcome.expect_err(service);
        assert_eq!(error.error_type(), expected, "{service}: {error}");
        assert!(error.is_retryable(), "{service}: {error}");
    }
    let stats = gateway.stats();
    assert_eq!(stats.faults_of(kind), 5 * 3, "3 attempts per call: {stats:?}");
    assert_eq!(stats.faults_total(), stats.faults_of(kind));
    assert!(
        stats.proxied.is_empty(),
        "a faulted request never reaches moto: {stats:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttling_in_every_protocol_is_retried_then_classified_aws_throttled() {
    every_call_fails_as(FaultKind::Throttle, "AwsThrottled").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_errors_are_retried_then_classified_aws_unavailable() {
    every_call_fails_as(FaultKind::ServerError, "AwsUnavailable").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropped_connections_are_retried_then_classified_aws_unavailable() {
    every_call_fails_as(FaultKind::Drop, "AwsUnavailable").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seeded_faults_are_survived_by_sdk_retries() {
    let moto = workflow_tests::moto().await;
    let faults = FaultConfig {
        rate: 0.3,
        seed: 42,
        kinds: FaultKind::ALL.to_vec(),
    };
    let (gateway, _) = start_gateway(&moto.sdk_config(), &moto.endpoint(), |c| c.with_faults(faults));
    // 5 attempts rather than the default 3: at rate 0.3 a call fails 3 times in a row 2.7% of the
    // time (the state machines' Retry on AwsThrottled/AwsUnavailable covers that on AWS); here
    // every one of the 50 calls must get through.
    let clients = AwsClients::new(&via(&moto.sdk_config(), gateway.endpoint(), 5));

    for round in 0..10 {
        for (service, outcome) in one_call_per_service(&clients).await {
            outcome.unwrap_or_else(|e| panic!("round {round}, {service}: {e}"));
        }
    }
    let stats = gateway.stats();
    let proxied: u64 = stats.proxied.values().sum();
    assert_eq!(proxied, 50, "each call reached moto exactly once: {stats:?}");
    for kind in FaultKind::ALL {
        assert!(stats.faults_of(kind) > 0, "no {kind} injected: {stats:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lambda_invokes_and_step_functions_calls_are_never_faulted() {
    let moto = workflow_tests::moto().await;
    let (gateway, clients) = start_gateway(&moto.sdk_config(), &moto.endpoint(), |c| {
        c.with_faults(FaultConfig {
            rate: 1.0,
            ..FaultConfig::default()
        })
    });

    for _ in 0..5 {
        clients
            .sfn
            .list_state_machines()
            .send()
            .await
            .expect("states calls go through");
        // Needs no AWS call in skip mode: any failure would be the invoke's own.
        let invocation = invoke(
            gateway.endpoint(),
            "cleanup",
            r#"{"action":"access-entry","clusterName":"demo","namespace":"ns"}"#,
        )
        .await;
        assert_eq!(invocation.function_error(), None, "{}", invocation.body);
    }
    let stats = gateway.stats();
    assert_eq!(stats.faults_total(), 0, "{stats:?}");
    assert_eq!(stats.proxied_to("states"), 5);
    assert_eq!(stats.invocations_of(Function::Cleanup), 5);

    // The same gateway does fault the handlers' services.
    let [(_, ec2), ..] = one_call_per_service(&clients).await;
    assert!(ec2.is_err());
    assert!(gateway.stats().faults_total() > 0);
}
