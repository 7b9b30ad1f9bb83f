//! Provision → validate → cleanup, started the console's way (the EventBridge trigger is in
//! `triggers.rs`).

use crate::support::*;
use efs_fargate_core::input::DEFAULT_NAMESPACE;
use local_stack::stack::{CLUSTER, CLUSTER_ACCESS_ROLE, StackOptions};
use serde_json::json;

#[tokio::test]
async fn provision_validates_the_storage_and_cleanup_leaves_nothing() {
    let stack = stack(StackOptions::default()).await;
    let execution = stack
        .provision("provision-e2e", json!({"clusterName": CLUSTER, "ttl": "PT8H"}))
        .await;
    succeeded(&execution);
    let output = &execution.output;
    let file_system = output["resources"]["fileSystemId"]
        .as_str()
        .expect("a file system id")
        .to_string();
    assert!(file_system.starts_with("fs-"), "{output}");
    assert_eq!(
        output["resources"]["mountTargetIds"].as_array().map(Vec::len),
        Some(3),
        "{output}"
    );
    let files = stack.stack.kube.store_files(&file_system);
    assert!(
        files.keys().any(|p| p.ends_with("out1.txt")) && files.keys().any(|p| p.ends_with("out2.txt")),
        "{files:?}"
    );
    assert!(output["validation"]["report"].is_object(), "{output}");
    let access = stack.stack.access_entries.resolve(CLUSTER, CLUSTER_ACCESS_ROLE);
    assert!(
        access.is_some(),
        "prepare granted the Kubernetes steps' role an access entry"
    );
    println!(
        "provisioning took {} state transitions",
        stack.entered_states(&execution.execution_arn).await.len()
    );

    stack.cleanup("cleanup-e2e", DEFAULT_NAMESPACE).await;
    assert_eq!(stack.ours_left().await, Vec::<String>::new());
    assert!(
        stack.stack.kube.object("Namespace", None, DEFAULT_NAMESPACE).is_none(),
        "the namespace is gone"
    );
    // Idempotent: a second cleanup (a retried TTL cleanup, a person making sure) finds nothing and
    // succeeds, although the workflow's access to the cluster went with the first.
    let again = stack.cleanup("cleanup-e2e-again", DEFAULT_NAMESPACE).await;
    assert!(
        again.output["actions"]
            .as_object()
            .expect("the summary's actions")
            .values()
            .all(|action| action["removed"] == serde_json::json!([])),
        "{}",
        again.output
    );
    assert_eq!(stack.ours_left().await, Vec::<String>::new());
    // The data itself stays on the (deleted) file system's store only in the fake; cleanup is about AWS objects.
    // IAM evaluated every AWS call of the functions (and shutdown checks it denied none).
    assert!(stack.stack.gateway_stats().iam_evaluated > 0);
    stack.shutdown().await;
}
