//! A dry run through moto's Step Functions engine: `dryRun: true` ends successfully after
//! `prepare` with the doctor's report and the plan as the output, and changes nothing (no AWS
//! resource, no access entry, no lease, no Kubernetes object).

use crate::support::*;
use efs_fargate_core::input::DEFAULT_NAMESPACE;
use local_stack::stack::{CLUSTER, CLUSTER_ACCESS_ROLE, StackOptions};
use serde_json::json;

#[tokio::test]
async fn a_dry_run_ends_with_the_plan_and_changes_nothing() {
    let stack = stack(StackOptions {
        schedules: false,
        ..StackOptions::default()
    })
    .await;
    let before = workflow_tests::inventory(&stack.stack.moto_clients, CLUSTER).await;
    let execution = stack
        .provision("plan-e2e", json!({"clusterName": CLUSTER, "dryRun": true}))
        .await;
    succeeded(&execution);
    let output = &execution.output;
    assert_eq!(output["status"], "planned", "{output}");
    assert_eq!(output["doctor"]["healthy"], true, "{output}");
    let access = output["plan"]["resources"]
        .as_array()
        .expect("resources")
        .iter()
        .find(|r| r["kind"] == "accessEntry")
        .expect("the access entry is planned");
    assert_eq!(access["name"], CLUSTER_ACCESS_ROLE);
    assert_eq!(access["action"], "create");
    assert_eq!(
        stack.entered_states(&execution.execution_arn).await,
        [
            "Init",
            "Prepare",
            "IsClusterReady",
            "PlanKubernetes",
            "PlanOutput",
            "Planned"
        ]
    );
    // The workflow has no access entry yet, so the cluster's API refuses it: the Kubernetes
    // objects stay `ensure`, and say why.
    let namespace = output["plan"]["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["kind"] == "namespace")
        .expect("the namespace is planned");
    assert_eq!(namespace["action"], "ensure", "{namespace}");
    assert!(
        namespace["reason"].as_str().unwrap().starts_with("not read: "),
        "{namespace}"
    );

    assert_eq!(
        workflow_tests::inventory(&stack.stack.moto_clients, CLUSTER).await,
        before
    );
    assert_eq!(stack.stack.access_entries.resolve(CLUSTER, CLUSTER_ACCESS_ROLE), None);
    let leases = stack
        .stack
        .moto_clients
        .dynamodb
        .scan()
        .table_name(workflow_tests::LEASE_TABLE)
        .send()
        .await
        .expect("scan the lease table");
    assert_eq!(leases.count(), 0, "no lease");
    assert!(stack.stack.kube.object("Namespace", None, DEFAULT_NAMESPACE).is_none());
    stack.shutdown().await;
}
