//! IAM enforced on the local stack: each function's EKS calls are authorized against its role's
//! policies from template.yaml (`local_stack::iam`). A statement taken out of the template fails
//! the step that needs it with `AccessDenied`; the conditions on the access-entry and profile
//! grants refuse what the workflow's own code never asks for, when someone holding the role's
//! credentials asks for it directly.

use crate::support::*;
use aws_sdk_eks::types::{AccessScope, AccessScopeType};
use efs_fargate_core::functions::Function;
use efs_fargate_core::ownership::{MANAGED_BY_KEY, MANAGED_BY_VALUE, OPT_IN_TAG_KEY};
use efs_fargate_core::resources::rbac;
use local_stack::kube_access::OPERATOR_ROLE;
use local_stack::stack::{CLUSTER, CLUSTER_ACCESS_ROLE, StackOptions};
use serde_json::{Value, json};

const CLUSTER_ADMIN: &str = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy";

fn without(role: &str, sid: &str) -> StackOptions {
    StackOptions {
        revoked_statements: vec![(role.into(), sid.into())],
        schedules: false,
        ..StackOptions::default()
    }
}

/// An EKS client through the gateway, signed with the key of the role `function` runs as.
fn eks_as(stack: &Stack, function: Function) -> aws_sdk_eks::Client {
    let role = stack
        .stack
        .roles
        .of_function(function.name())
        .expect("every function has a role");
    let credentials =
        aws_sdk_eks::config::Credentials::new(&role.access_key_id, &role.secret_access_key, None, None, "test");
    let config = workflow_tests::sdk_config(stack.stack.gateway_endpoint())
        .to_builder()
        .credentials_provider(aws_sdk_eks::config::SharedCredentialsProvider::new(credentials))
        .build();
    aws_sdk_eks::Client::new(&config)
}

/// The error code of a refused call.
fn code<T: std::fmt::Debug, E: aws_sdk_eks::error::ProvideErrorMetadata + std::fmt::Debug>(
    result: Result<T, E>,
) -> String {
    match result {
        Err(error) => error.code().unwrap_or("(none)").to_string(),
        Ok(answer) => panic!("expected a refusal, got {answer:?}"),
    }
}

/// The ARN an execution `name` of the provisioning state machine has.
fn execution_arn(stack: &Stack, name: &str) -> String {
    format!(
        "{}:{name}",
        stack.stack.provision_arn.replacen(":stateMachine:", ":execution:", 1)
    )
}

fn prepare_event(stack: &Stack, name: &str) -> Value {
    json!({"runId": name, "startedAt": "2026-12-07T10:00:00Z",
           "input": {"clusterName": CLUSTER, "deployPocApp": false},
           "executionArn": execution_arn(stack, name), "attempt": 0})
}

#[tokio::test]
async fn a_run_fails_with_access_denied_where_the_fargate_profile_role_lacks_a_statement() {
    let stack = stack(without("FargateProfileRole", "ReadFargateProfiles")).await;
    let run = stack
        .provision(
            "iam-no-profile-reads",
            json!({"clusterName": CLUSTER, "deployPocApp": false}),
        )
        .await;
    assert_eq!(run.error.as_deref(), Some("AccessDenied"), "{run:?}");
    let cause = run.cause.clone().unwrap_or_default();
    assert!(
        cause.contains("eks:DescribeFargateProfile") && cause.contains("efs-workflow-fargate-profile"),
        "{cause}"
    );
    assert!(stack.stack.gateway_stats().iam_denied >= 1);
    stack.shutdown_after_denials().await;
}

#[tokio::test]
async fn a_run_fails_with_access_denied_where_the_efs_role_lacks_a_statement() {
    let stack = stack(without("EfsRole", "DescribeCluster")).await;
    let run = stack
        .provision("iam-efs-blind", json!({"clusterName": CLUSTER, "deployPocApp": false}))
        .await;
    assert_eq!(run.error.as_deref(), Some("AccessDenied"), "{run:?}");
    let cause = run.cause.clone().unwrap_or_default();
    assert!(
        cause.contains("eks:DescribeCluster") && cause.contains("efs-workflow-efs"),
        "{cause}"
    );
    stack.shutdown_after_denials().await;
}

#[tokio::test]
async fn prepare_and_the_reaper_each_need_their_grant_statements() {
    // prepare: no bootstrap grant without BootstrapGrantOnOwnEntry.
    let stack = stack(without("PrepareRole", "BootstrapGrantOnOwnEntry")).await;
    let functions = stack.stack.functions();
    let prepared = functions
        .invoke(Function::Prepare, prepare_event(&stack, "iam-grant"))
        .await
        .expect("prepare makes the run and the access entry");
    let grant = json!({"action": "grant-bootstrap", "run": prepared["output"]["run"],
                       "executionArn": execution_arn(&stack, "iam-grant"), "attempt": 0});
    let refused = functions
        .invoke(Function::Prepare, grant)
        .await
        .expect_err("no grant without its statement");
    assert_eq!(refused.error_type, "AccessDenied", "{refused:?}");
    assert!(
        refused.error_message.contains("eks:AssociateAccessPolicy"),
        "{refused:?}"
    );
    stack.shutdown_after_denials().await;

    // The reaper: a grant whose run never existed stays when it may not revoke it, and the sweep
    // fails with the named error.
    let stack = crate::support::stack(without("TtlReaperRole", "RevokeStaleBootstrapGrantOfOwnEntry")).await;
    let functions = stack.stack.functions();
    let prepared = functions
        .invoke(Function::Prepare, prepare_event(&stack, "iam-reaper"))
        .await
        .expect("prepare");
    let grant = json!({"action": "grant-bootstrap", "run": prepared["output"]["run"],
                       "executionArn": execution_arn(&stack, "ghost"), "attempt": 0});
    functions.invoke(Function::Prepare, grant).await.expect("granted");
    let sweep = functions
        .invoke(Function::TtlReaper, json!({}))
        .await
        .expect_err("no revoke without its statement");
    assert_eq!(sweep.error_type, "AccessDenied", "{sweep:?}");
    assert!(
        sweep.error_message.contains("eks:DisassociateAccessPolicy"),
        "{sweep:?}"
    );
    assert!(
        stack
            .stack
            .access_entries
            .resolve(CLUSTER, CLUSTER_ACCESS_ROLE)
            .is_some_and(|access| !access.policies.is_empty()),
        "the grant stays"
    );
    stack.shutdown_after_denials().await;
}

#[tokio::test]
async fn a_rollback_fails_with_access_denied_where_its_role_may_not_start_the_cleanup() {
    let stack = stack(StackOptions {
        latency: local_stack::LatencyConfig {
            create: std::time::Duration::from_secs(3),
            ..local_stack::LatencyConfig::default()
        },
        status_changes: false,
        ..without("RollbackRole", "StartCleanup")
    })
    .await;
    let arn = stack.provision_stopped_while_waiting("iam-rollback").await;
    let event = stack.stack.status_change(&arn).await.expect("its status-change event");
    let refused = stack
        .stack
        .functions()
        .invoke(Function::Rollback, event)
        .await
        .expect_err("no cleanup started without its statement");
    assert_eq!(refused.error_type, "AccessDenied", "{refused:?}");
    assert!(refused.error_message.contains("states:StartExecution"), "{refused:?}");
    assert!(!stack.ours_left().await.is_empty(), "nothing was rolled back");
    stack.shutdown_after_denials().await;
}

#[tokio::test]
async fn the_access_entry_grants_refuse_what_the_workflow_never_asks_for() {
    let stack = stack(StackOptions {
        schedules: false,
        ..StackOptions::default()
    })
    .await;
    let eks = eks_as(&stack, Function::Prepare);
    let entry = |principal: &str, group: &str, kind: &str, tagged: bool| {
        let mut create = eks
            .create_access_entry()
            .cluster_name(CLUSTER)
            .principal_arn(principal)
            .kubernetes_groups(group)
            .r#type(kind);
        if tagged {
            create = create.tags(MANAGED_BY_KEY, MANAGED_BY_VALUE);
        }
        create.send()
    };
    let denied = "AccessDeniedException";
    // Another group (system:masters would be cluster-admin), another principal, a node type, no
    // ownership tag: each refused by a condition of CreateClusterAccessRoleEntryOnOptedInCluster.
    assert_eq!(
        code(entry(CLUSTER_ACCESS_ROLE, "system:masters", "STANDARD", true).await),
        denied
    );
    assert_eq!(code(entry(OPERATOR_ROLE, rbac::GROUP, "STANDARD", true).await), denied);
    assert_eq!(
        code(entry(CLUSTER_ACCESS_ROLE, rbac::GROUP, "EC2_LINUX", true).await),
        denied
    );
    assert_eq!(
        code(entry(CLUSTER_ACCESS_ROLE, rbac::GROUP, "STANDARD", false).await),
        denied
    );

    // A cluster without the opt-in tag gets no entry at all.
    let moto_eks = &stack.stack.moto_clients.eks;
    let cluster_arn = stack.cluster_arn().await;
    moto_eks
        .untag_resource()
        .resource_arn(&cluster_arn)
        .tag_keys(OPT_IN_TAG_KEY)
        .send()
        .await
        .expect("untagged");
    assert_eq!(
        code(entry(CLUSTER_ACCESS_ROLE, rbac::GROUP, "STANDARD", true).await),
        denied
    );
    moto_eks
        .tag_resource()
        .resource_arn(&cluster_arn)
        .tags(OPT_IN_TAG_KEY, "true")
        .send()
        .await
        .expect("tagged again");

    // What the workflow asks for is allowed; then no other group, and no grant but cluster-admin
    // on the cluster (a namespaced scope or another policy is refused).
    entry(CLUSTER_ACCESS_ROLE, rbac::GROUP, "STANDARD", true)
        .await
        .expect("the workflow's own entry");
    let update = eks
        .update_access_entry()
        .cluster_name(CLUSTER)
        .principal_arn(CLUSTER_ACCESS_ROLE)
        .kubernetes_groups("system:masters")
        .send()
        .await;
    assert_eq!(code(update), denied);
    let associate = |policy: &str, scope: AccessScopeType| {
        eks.associate_access_policy()
            .cluster_name(CLUSTER)
            .principal_arn(CLUSTER_ACCESS_ROLE)
            .policy_arn(policy)
            .access_scope(AccessScope::builder().r#type(scope).namespaces("kube-system").build())
            .send()
    };
    assert_eq!(code(associate(CLUSTER_ADMIN, AccessScopeType::Namespace).await), denied);
    let edit = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSEditPolicy";
    assert_eq!(code(associate(edit, AccessScopeType::Cluster).await), denied);

    // The Kubernetes steps' role may delete only the profiles tagged as the workflow's.
    moto_eks
        .create_fargate_profile()
        .cluster_name(CLUSTER)
        .fargate_profile_name("fp-theirs")
        .pod_execution_role_arn(workflow_tests::POD_ROLE)
        .selectors(
            aws_sdk_eks::types::FargateProfileSelector::builder()
                .namespace("theirs")
                .build(),
        )
        .send()
        .await
        .expect("someone else's profile");
    let delete = eks_as(&stack, Function::Cleanup)
        .delete_fargate_profile()
        .cluster_name(CLUSTER)
        .fargate_profile_name("fp-theirs")
        .send()
        .await;
    assert_eq!(code(delete), denied);
    assert_eq!(stack.stack.gateway_stats().iam_denied, 9);
    stack.shutdown_after_denials().await;
}
