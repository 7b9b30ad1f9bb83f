//! Namespaces sharing one cluster: what they share (the access entry, the workflow's RBAC, the
//! StorageClass, the CSIDriver and Fargate's logging configuration) stays while the ledger shows
//! another namespace of this deployment provisioned or being provisioned there, and goes with the
//! last one.

use crate::support::*;
use efs_fargate_core::resources::logging::{CONFIG_MAP, NAMESPACE as OBSERVABILITY};
use efs_fargate_core::resources::rbac;
use efs_fargate_core::resources::storage_objects::{CSI_DRIVER, STORAGE_CLASS};
use local_stack::stack::{CLUSTER, CLUSTER_ACCESS_ROLE, StackOptions};
use serde_json::json;

/// What the cluster's namespaces share, by name, that is missing on the cluster.
fn missing_shared(stack: &Stack) -> Vec<String> {
    let kube = &stack.stack.kube;
    let mut missing: Vec<String> = [
        ("StorageClass", None, STORAGE_CLASS),
        ("CSIDriver", None, CSI_DRIVER),
        ("Namespace", None, OBSERVABILITY),
        ("ConfigMap", Some(OBSERVABILITY), CONFIG_MAP),
        ("ClusterRole", None, rbac::NAME),
        ("ClusterRoleBinding", None, rbac::NAME),
    ]
    .into_iter()
    .filter(|(kind, namespace, name)| kube.object(kind, *namespace, name).is_none())
    .map(|(kind, _, name)| format!("{kind} {name}"))
    .collect();
    if stack
        .stack
        .access_entries
        .resolve(CLUSTER, CLUSTER_ACCESS_ROLE)
        .is_none()
    {
        missing.push("access entry".into());
    }
    missing
}

#[tokio::test]
async fn of_three_namespaces_two_cleaned_up_the_third_keeps_what_it_shares_and_its_access() {
    let stack = stack(StackOptions {
        schedules: false,
        ..StackOptions::default()
    })
    .await;
    for (namespace, app) in [("team-a", true), ("team-b", false), ("team-c", false)] {
        let run = stack
            .provision(
                &format!("provision-{namespace}"),
                json!({"clusterName": CLUSTER, "namespace": namespace, "deployPocApp": app}),
            )
            .await;
        succeeded(&run);
    }
    for namespace in ["team-a", "team-b"] {
        let cleanup = stack.cleanup(&format!("cleanup-{namespace}"), namespace).await;
        let kept = cleanup.output["actions"]["kubernetes"]["kept"].to_string();
        assert!(kept.contains("still used by namespaces"), "{kept}");
        assert!(kept.contains("team-c"), "{kept}");
        assert!(stack.stack.kube.object("Namespace", None, namespace).is_none());
        assert_eq!(missing_shared(&stack), Vec::<String>::new(), "after {namespace}");
    }
    // Its access still works: its own cleanup reaches the cluster, and as the last one out takes
    // the shared objects with it.
    stack.cleanup("cleanup-team-c", "team-c").await;
    assert!(stack.stack.kube.object("Namespace", None, "team-c").is_none());
    assert_eq!(missing_shared(&stack).len(), 7, "{:?}", missing_shared(&stack));
    assert_eq!(stack.ours_left().await, Vec::<String>::new());
    stack.shutdown().await;
}

#[tokio::test]
async fn a_namespace_provisioning_while_the_last_other_one_is_cleaned_up_completes_with_its_access() {
    let stack = stack(StackOptions {
        schedules: false,
        ..StackOptions::default()
    })
    .await;
    let first = stack
        .provision(
            "provision-team-a",
            json!({"clusterName": CLUSTER, "namespace": "team-a", "deployPocApp": false}),
        )
        .await;
    succeeded(&first);
    let second = stack
        .start(
            "provision-team-b",
            json!({"clusterName": CLUSTER, "namespace": "team-b"}),
        )
        .await;
    stack.reached(&second, "StartRun").await;
    let cleanup = stack.cleanup("cleanup-team-a", "team-a").await;
    let kept = cleanup.output["actions"]["kubernetes"]["kept"].to_string();
    assert!(kept.contains("still used by namespaces team-b"), "{kept}");
    assert_eq!(
        cleanup.output["actions"]["accessEntry"]["removed"],
        json!([]),
        "{cleanup:?}"
    );

    let second = stack.stack.wait(&second, TIMEOUT).await.expect("team-b ends");
    succeeded(&second);
    assert!(second.output["validation"]["report"].is_object(), "{:?}", second.output);
    assert_eq!(missing_shared(&stack), Vec::<String>::new());
    assert!(stack.stack.kube.object("Namespace", None, "team-a").is_none());
    stack.cleanup("cleanup-team-b", "team-b").await;
    assert_eq!(stack.ours_left().await, Vec::<String>::new());
    stack.shutdown().await;
}
