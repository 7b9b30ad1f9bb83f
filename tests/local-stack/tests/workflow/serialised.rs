//! One Fargate profile change per cluster: three namespaces provisioning and a fourth cleaned up,
//! all at once on one cluster, with profiles spending real time CREATING and DELETING and the
//! gateway refusing a second change the way EKS does. The per-cluster lease queues them, so every
//! execution succeeds and EKS never has to say no.

use crate::support::*;
use aws_sdk_sfn::types::ExecutionStatus;
use local_stack::LatencyConfig;
use local_stack::stack::{CLUSTER, Execution, StackOptions};
use serde_json::json;
use std::time::{Duration, Instant};

#[tokio::test]
async fn three_provisions_and_a_cleanup_on_one_cluster_take_turns() {
    let latency = LatencyConfig {
        create: Duration::from_secs(3),
        delete: Duration::from_secs(3),
        ..LatencyConfig::default()
    };
    let stack = stack(StackOptions {
        latency,
        ..StackOptions::default()
    })
    .await;
    let input = |namespace: &str| json!({"clusterName": CLUSTER, "namespace": namespace, "deployPocApp": false});
    succeeded(&stack.provision("provision-old", input("team-old")).await);

    let began = Instant::now();
    let sfn = &stack.stack.moto_clients.sfn;
    let mut started = Vec::new();
    for (machine, name, input) in [
        (&stack.stack.provision_arn, "provision-a", input("team-a")),
        (&stack.stack.provision_arn, "provision-b", input("team-b")),
        (&stack.stack.provision_arn, "provision-c", input("team-c")),
        (
            &stack.stack.cleanup_arn,
            "cleanup-old",
            json!({"clusterName": CLUSTER, "namespace": "team-old"}),
        ),
    ] {
        let execution = sfn
            .start_execution()
            .state_machine_arn(machine)
            .name(name)
            .input(input.to_string())
            .send()
            .await
            .expect("start");
        started.push(execution.execution_arn().to_string());
    }
    let mut ended: Vec<Execution> = Vec::new();
    for arn in &started {
        ended.push(stack.stack.wait(arn, TIMEOUT).await.expect("the execution ends"));
    }
    for execution in &ended {
        assert_eq!(
            execution.status,
            ExecutionStatus::Succeeded,
            "{}: {:?} {:?}",
            execution.execution_arn,
            execution.error,
            execution.cause
        );
    }
    for (execution, namespace) in ended.iter().zip(["team-a", "team-b", "team-c"]) {
        let profile = &execution.output["fargateProfile"];
        assert_eq!(profile["status"], "ACTIVE", "{profile}");
        assert_eq!(profile["profileName"], format!("fp-{namespace}"), "{profile}");
        assert!(
            profile["profileArn"].as_str().is_some_and(|arn| !arn.is_empty()),
            "{profile}"
        );
    }
    // Four changes of about 3 s each, one after another: the later ones waited for the lease.
    let queued = {
        let mut total = 0;
        for arn in &started[..3] {
            total += stack.entries(arn, "WaitForFargateProfile").await;
        }
        total
    };
    assert!(queued >= 6, "{queued} profile polls in all");
    assert!(began.elapsed() >= Duration::from_secs(9), "{:?}", began.elapsed());
    let stats = stack.stack.gateway_stats();
    assert_eq!(
        stats.profile_busy, 0,
        "EKS would have refused a profile change: {stats:?}"
    );
    let profiles = workflow_tests::inventory(&stack.stack.moto_clients, CLUSTER)
        .await
        .fargate_profiles
        .into_iter()
        .map(|p| p.name)
        .collect::<std::collections::BTreeSet<_>>();
    assert_eq!(
        profiles,
        ["fp-team-a", "fp-team-b", "fp-team-c"].map(String::from).into(),
        "team-old's profile is gone, the others are there"
    );
    stack.shutdown().await;
}
