//! A bootstrap grant (cluster-admin on the workflow's own access entry, for the step that installs
//! its RBAC) never outlives its run: it is recorded in the ledger when made, and the reaper's
//! sweep revokes one whose run has ended or does not exist, while it leaves a running run's alone;
//! a cluster that lost its opt-in tag gets no grant.
//! Through the real handlers and the gateway's emulated access entries.

use crate::support::*;
use efs_fargate_core::functions::Function;
use efs_fargate_core::ownership::OPT_IN_TAG_KEY;
use local_stack::stack::{CLUSTER, CLUSTER_ACCESS_ROLE, StackOptions};
use serde_json::{Value, json};

/// Whether the workflow's entry holds cluster-admin now.
fn granted(stack: &Stack) -> bool {
    stack
        .stack
        .access_entries
        .resolve(CLUSTER, CLUSTER_ACCESS_ROLE)
        .is_some_and(|access| {
            access
                .policies
                .iter()
                .any(|(policy, _)| policy == "AmazonEKSClusterAdminPolicy")
        })
}

async fn invoke(stack: &Stack, function: Function, event: Value) -> Value {
    stack
        .stack
        .functions()
        .invoke(function, event)
        .await
        .unwrap_or_else(|e| panic!("{function:?}: {e:?}"))
}

#[tokio::test]
async fn the_reaper_revokes_a_grant_whose_run_has_ended_and_keeps_a_running_one_s() {
    // The running run is played by an execution of a state machine of the test's own, which the
    // reaper's role may read here only because the test says so.
    let reads_stand_in = json!({"Effect": "Allow", "Action": "states:DescribeExecution",
        "Resource": "arn:aws:states:us-east-1:123456789012:execution:waits:*"});
    let stack = stack(StackOptions {
        schedules: false,
        granted_statements: vec![("TtlReaperRole".into(), reads_stand_in)],
        ..StackOptions::default()
    })
    .await;
    let execution = |name: &str| {
        format!(
            "{}:{name}",
            stack.stack.provision_arn.replacen(":stateMachine:", ":execution:", 1)
        )
    };
    // A run that stands in for one stopped while it held the grant: `prepare` made its access
    // entry, the state machine's GrantBootstrapAccess call made the grant.
    let prepared = invoke(
        &stack,
        Function::Prepare,
        json!({"runId": "provision-stopped", "startedAt": "2026-12-07T10:00:00Z",
               "input": {"clusterName": CLUSTER, "deployPocApp": false},
               "executionArn": execution("provision-stopped"), "attempt": 0}),
    )
    .await;
    let run = prepared["output"]["run"].clone();
    assert!(run.is_object(), "{prepared}");
    let grant = |execution_arn: String| json!({"action": "grant-bootstrap", "run": run, "executionArn": execution_arn, "attempt": 0});

    // Its execution is still running (a real one, waiting): the sweep leaves the grant.
    let sfn = &stack.stack.moto_clients.sfn;
    let waiting = sfn
        .create_state_machine()
        .name("waits")
        .definition(r#"{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":600,"End":true}}}"#)
        .role_arn("arn:aws:iam::123456789012:role/states")
        .send()
        .await
        .expect("a state machine that waits");
    let running = sfn
        .start_execution()
        .state_machine_arn(waiting.state_machine_arn())
        .name("provision-running")
        .send()
        .await
        .expect("start")
        .execution_arn()
        .to_string();
    invoke(&stack, Function::Prepare, grant(running.clone())).await;
    assert!(granted(&stack));
    let sweep = invoke(&stack, Function::TtlReaper, json!({})).await;
    assert!(sweep.get("revokedGrants").is_none(), "{sweep}");
    assert!(granted(&stack), "a running run keeps its grant");

    // Once it has ended without revoking it, the next sweep does.
    sfn.stop_execution().execution_arn(&running).send().await.expect("stop");
    stack.stack.wait(&running, TIMEOUT).await.expect("it ends");
    let sweep = invoke(&stack, Function::TtlReaper, json!({})).await;
    let revoked = sweep["revokedGrants"].to_string();
    assert!(
        revoked.contains(CLUSTER_ACCESS_ROLE) && revoked.contains("has ended (ABORTED)"),
        "{sweep}"
    );
    assert!(!granted(&stack), "revoked");

    // A grant whose run never existed goes too; a sweep with nothing recorded changes nothing.
    invoke(&stack, Function::Prepare, grant(execution("provision-ghost"))).await;
    assert!(granted(&stack));
    let sweep = invoke(&stack, Function::TtlReaper, json!({})).await;
    assert!(sweep["revokedGrants"].to_string().contains("does not exist"), "{sweep}");
    assert!(!granted(&stack));
    let sweep = invoke(&stack, Function::TtlReaper, json!({})).await;
    assert!(sweep.get("revokedGrants").is_none(), "{sweep}");

    // A cluster that dropped the opt-in tag since `prepare` gets no grant.
    let eks = &stack.stack.moto_clients.eks;
    let cluster_arn = stack.cluster_arn().await;
    eks.untag_resource()
        .resource_arn(&cluster_arn)
        .tag_keys(OPT_IN_TAG_KEY)
        .send()
        .await
        .expect("untagged");
    let refused = stack
        .stack
        .functions()
        .invoke(Function::Prepare, grant(running))
        .await
        .expect_err("no grant without the opt-in tag");
    assert_eq!(refused.error_type, "ClusterNotOptedIn", "{refused:?}");
    assert!(!granted(&stack), "nothing granted");
    stack.shutdown().await;
}
