//! Data safety end to end: a failed re-run, a shared KMS alias, look-alikes under our names, two
//! runs of one namespace at once, and a cleanup while the Kubernetes API is down and after it is
//! back. Each checks that nothing another run (or someone else) created is deleted, and that what
//! the ledger records is removed in the end.

use crate::support::*;
use aws_sdk_sfn::types::ExecutionStatus;
use efs_fargate_core::input::DEFAULT_NAMESPACE;
use efs_fargate_core::ownership::{MANAGED_BY_KEY, MANAGED_BY_VALUE, Owner};
use local_stack::stack::{CLUSTER, StackOptions};
use serde_json::json;
use workflow_tests::inventory;

/// The rollback cleanup the failed execution started, once it has ended.
async fn rollback_cleanup(stack: &Stack) -> local_stack::stack::Execution {
    rollback_cleanups(stack, 1).await.remove(0)
}

/// The `count` rollback cleanups started so far, each once it has ended.
async fn rollback_cleanups(stack: &Stack, count: usize) -> Vec<local_stack::stack::Execution> {
    let cleanups = stack.stack.executions(&stack.stack.cleanup_arn).await.unwrap();
    assert_eq!(cleanups.len(), count, "rollback cleanups");
    let mut ended = Vec::new();
    for cleanup in &cleanups {
        ended.push(stack.stack.wait(cleanup.execution_arn(), TIMEOUT).await.unwrap());
    }
    ended
}

#[tokio::test]
async fn a_failed_rerun_leaves_the_first_run_and_its_files_as_they_were() {
    let stack = stack(StackOptions::default()).await;
    let first = stack
        .provision("provision-first", json!({"clusterName": CLUSTER}))
        .await;
    succeeded(&first);
    let fs = first.output["resources"]["fileSystemId"].as_str().unwrap().to_string();
    let before = inventory(&stack.stack.moto_clients, CLUSTER).await;
    let files = stack.stack.kube.store_files(&fs);
    assert!(files.keys().any(|f| f.ends_with("out1.txt")), "{files:?}");

    // A conflicting setting (a new KMS alias for an existing file system): the re-run is refused
    // by `prepare`, before it creates anything, so there is nothing to roll back.
    let rerun = stack
        .provision(
            "provision-rerun",
            json!({"clusterName": CLUSTER, "encryption": {"kmsKeyAlias": "alias/typo"}}),
        )
        .await;
    assert_eq!(rerun.status, ExecutionStatus::Failed, "{rerun:?}");
    assert_eq!(rerun.error.as_deref(), Some("FileSystemConflict"), "{rerun:?}");
    assert_eq!(
        stack.entries(&rerun.execution_arn, "CreateNamespace").await,
        0,
        "refused in prepare"
    );
    let cleanups = stack.stack.executions(&stack.stack.cleanup_arn).await.unwrap();
    assert!(cleanups.is_empty(), "nothing to roll back: {cleanups:?}");

    let after = inventory(&stack.stack.moto_clients, CLUSTER).await;
    assert_eq!(after, before, "not even the re-run's key was created");
    assert!(stack.stack.kube.object("Namespace", None, DEFAULT_NAMESPACE).is_some());
    for kind in ["ClusterRole", "ClusterRoleBinding"] {
        assert!(
            stack
                .stack
                .kube
                .object(kind, None, efs_fargate_core::resources::rbac::NAME)
                .is_some(),
            "the first run's {kind} outlives the failed re-run"
        );
    }
    let now = stack.stack.kube.store_files(&fs);
    for (file, content) in &files {
        assert!(now[file].starts_with(content.as_str()), "{file} lost lines");
    }
    stack.shutdown().await;
}

#[tokio::test]
async fn a_shared_kms_key_stays_until_the_last_namespace_using_it_is_cleaned_up() {
    let stack = stack(StackOptions::default()).await;
    for namespace in ["team-a", "team-b"] {
        let run = stack
            .provision(
                &format!("provision-{namespace}"),
                json!({"clusterName": CLUSTER, "namespace": namespace, "deployPocApp": false,
                       "encryption": {"kmsKeyAlias": "alias/shared"}}),
            )
            .await;
        succeeded(&run);
    }
    let key_state = || async {
        let kms = &stack.stack.moto_clients.kms;
        let key = kms.describe_key().key_id("alias/shared").send().await;
        key.ok()
            .and_then(|k| k.key_metadata().and_then(|m| m.key_state().cloned()))
            .map(|s| s.as_str().to_string())
    };
    let first = stack.cleanup("cleanup-team-a", "team-a").await;
    assert_eq!(key_state().await.as_deref(), Some("Enabled"), "team-b still uses it");
    let kept = first.output["actions"]["kmsKey"]["kept"].to_string();
    assert!(kept.contains("still used by demo/team-b"), "{kept}");
    stack.cleanup("cleanup-team-b", "team-b").await;
    assert_eq!(key_state().await, None, "alias removed with the key");
    assert_eq!(stack.ours_left().await, Vec::<String>::new());
    stack.shutdown().await;
}

#[tokio::test]
async fn look_alikes_under_our_names_are_conflicts_and_adopting_a_namespace_is_explicit() {
    let stack = stack(StackOptions::default()).await;
    let owner = Owner::new(CLUSTER, DEFAULT_NAMESPACE);
    let efs = &stack.stack.moto_clients.efs;
    let foreign = efs
        .create_file_system()
        .creation_token(owner.creation_token())
        .send()
        .await
        .unwrap();
    let refused = stack
        .provision("provision-lookalike", json!({"clusterName": CLUSTER}))
        .await;
    assert_eq!(refused.error.as_deref(), Some("FileSystemConflict"), "{refused:?}");
    assert_eq!(
        stack.entries(&refused.execution_arn, "Rollback").await,
        0,
        "nothing to undo"
    );
    assert_eq!(stack.ours_left().await, Vec::<String>::new(), "nothing created");
    efs.delete_file_system()
        .file_system_id(foreign.file_system_id())
        .send()
        .await
        .unwrap();

    // A namespace someone else made: refused before any AWS resource, then adopted on request.
    stack.foreign_namespace("team-data").await;
    let refused = stack
        .provision(
            "provision-foreign-namespace",
            json!({"clusterName": CLUSTER, "namespace": "team-data", "deployPocApp": false}),
        )
        .await;
    assert_eq!(refused.error.as_deref(), Some("NamespaceConflict"), "{refused:?}");
    let undone = rollback_cleanup(&stack).await;
    succeeded(&undone);
    assert_eq!(
        stack.ours_left().await,
        Vec::<String>::new(),
        "no AWS resource was created"
    );
    // Adopting takes the workflow's label, which its admission policy requires and only an
    // administrator can add: refused, with what to do, until then.
    let unlabelled = stack
        .provision(
            "provision-adopting-unlabelled",
            json!({"clusterName": CLUSTER, "namespace": "team-data", "deployPocApp": false, "adopt": ["namespace"]}),
        )
        .await;
    assert_eq!(
        unlabelled.error.as_deref(),
        Some("NamespaceNotAdmitted"),
        "{unlabelled:?}"
    );
    assert!(
        unlabelled
            .cause
            .as_deref()
            .unwrap_or_default()
            .contains("kubectl label namespace team-data"),
        "{unlabelled:?}"
    );
    for cleanup in rollback_cleanups(&stack, 2).await {
        succeeded(&cleanup);
    }
    let label = kube::api::Patch::Merge(json!({"metadata": {"labels": {MANAGED_BY_KEY: MANAGED_BY_VALUE}}}));
    kube::Api::<k8s_openapi::api::core::v1::Namespace>::all(stack.kube_client())
        .patch("team-data", &kube::api::PatchParams::default(), &label)
        .await
        .expect("labelled by an administrator");
    let adopted = stack
        .provision(
            "provision-adopting",
            json!({"clusterName": CLUSTER, "namespace": "team-data", "deployPocApp": false, "adopt": ["namespace"]}),
        )
        .await;
    succeeded(&adopted);
    let cleanup = stack.cleanup("cleanup-team-data", "team-data").await;
    assert!(
        cleanup.output["actions"]["kubernetes"]["kept"]
            .to_string()
            .contains("namespace/team-data (not recorded as created by this deployment"),
        "{cleanup:?}"
    );
    assert!(
        stack.stack.kube.object("Namespace", None, "team-data").is_some(),
        "adopted, never deleted"
    );
    stack.shutdown().await;
}

#[tokio::test]
async fn of_two_runs_of_one_namespace_started_together_exactly_one_proceeds() {
    let stack = stack(StackOptions::default()).await;
    let input = json!({"clusterName": CLUSTER, "deployPocApp": false});
    let (a, b) = tokio::join!(
        stack.provision("provision-one", input.clone()),
        stack.provision("provision-two", input.clone())
    );
    let mut outcomes = [(a.status.clone(), a.error.clone()), (b.status.clone(), b.error.clone())];
    outcomes.sort_by_key(|(status, _)| status.as_str().to_string());
    assert_eq!(
        outcomes,
        [
            (ExecutionStatus::Failed, Some("RunInProgress".to_string())),
            (ExecutionStatus::Succeeded, None)
        ],
        "{a:?} {b:?}"
    );
    let loser = if a.status == ExecutionStatus::Failed { &a } else { &b };
    assert!(
        loser.cause.as_deref().unwrap_or_default().contains("provision-"),
        "{loser:?}"
    );
    assert_eq!(stack.entries(&loser.execution_arn, "Rollback").await, 0);
    let left = stack.ours_left().await;
    assert!(
        left.iter().any(|r| r.starts_with("file system")),
        "the winner's data stays: {left:?}"
    );
    // The lease was released at the end of the winner: a new run may start.
    succeeded(&stack.provision("provision-three", input).await);
    stack.shutdown().await;
}

/// With the Kubernetes API down, cleanup removes every AWS resource it can, but keeps the
/// workflow's access entry while the ledger still records Kubernetes objects of ours on the cluster:
/// once the API is back, a later cleanup reaches and removes them, and the access entry last.
#[tokio::test]
async fn with_the_kubernetes_api_down_cleanup_keeps_its_access_and_a_later_cleanup_finishes() {
    let stack = stack(StackOptions::default()).await;
    succeeded(
        &stack
            .provision(
                "provision-k8s-down",
                json!({"clusterName": CLUSTER, "deployPocApp": false}),
            )
            .await,
    );
    stack.stack.kube.set_available(false);
    let input = json!({"clusterName": CLUSTER, "namespace": DEFAULT_NAMESPACE});
    let cleanup = stack
        .stack
        .run(&stack.stack.cleanup_arn, "cleanup-k8s-down", &input, TIMEOUT)
        .await
        .unwrap();
    assert_eq!(cleanup.status, ExecutionStatus::Failed, "{cleanup:?}");
    assert_eq!(cleanup.error.as_deref(), Some("CleanupIncomplete"));
    assert!(
        cleanup
            .cause
            .as_deref()
            .unwrap_or_default()
            .contains("kubernetes: KubernetesUnavailable"),
        "{cleanup:?}"
    );
    assert_eq!(
        stack.ours_left().await,
        [format!("access entry {}", local_stack::stack::CLUSTER_ACCESS_ROLE)],
        "every other AWS resource of ours is gone; the access entry stays for the objects"
    );
    assert!(stack.stack.kube.object("Namespace", None, DEFAULT_NAMESPACE).is_some());

    stack.stack.kube.set_available(true);
    let again = stack
        .stack
        .run(&stack.stack.cleanup_arn, "cleanup-k8s-back", &input, TIMEOUT)
        .await
        .unwrap();
    succeeded(&again);
    assert!(stack.stack.kube.object("Namespace", None, DEFAULT_NAMESPACE).is_none());
    assert_eq!(
        stack.ours_left().await,
        Vec::<String>::new(),
        "then nothing of ours is left"
    );
    stack.shutdown().await;
}

#[tokio::test]
async fn a_cleanup_started_during_provisioning_waits_for_it_instead_of_tearing_it_down() {
    let stack = stack(StackOptions::default()).await;
    let sfn = &stack.stack.moto_clients.sfn;
    let started = sfn
        .start_execution()
        .state_machine_arn(&stack.stack.provision_arn)
        .name("provision-held")
        .input(json!({"clusterName": CLUSTER}).to_string())
        .send()
        .await
        .unwrap();
    // Once prepare has taken the lease (the namespace step runs after it), ask for a cleanup.
    while !stack
        .entered_states(started.execution_arn())
        .await
        .iter()
        .any(|s| s == "CreateNamespace")
    {
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    let input = json!({"clusterName": CLUSTER, "namespace": DEFAULT_NAMESPACE});
    let (provisioned, cleanup) = tokio::join!(
        stack.stack.wait(started.execution_arn(), TIMEOUT),
        stack
            .stack
            .run(&stack.stack.cleanup_arn, "cleanup-early", &input, TIMEOUT)
    );
    let (provisioned, cleanup) = (provisioned.unwrap(), cleanup.unwrap());
    succeeded(&provisioned);
    assert!(
        provisioned.output["validation"]["report"].is_object(),
        "validated, not torn down mid-way: {provisioned:?}"
    );
    succeeded(&cleanup);
    assert!(
        stack.entries(&cleanup.execution_arn, "AcquireLease").await > 1,
        "the cleanup waited for the lease"
    );
    assert_eq!(stack.ours_left().await, Vec::<String>::new(), "then removed everything");
    stack.shutdown().await;
}
