//! The Kubernetes functions' own roles: each holds only its function's AWS rights, and they share
//! only the workflow's Kubernetes identity (`ClusterAccessRole`), which they assume for their EKS
//! tokens and which holds no AWS right. On the local stack the gateway answers `sts:AssumeRole`
//! between the template's roles after checking both halves IAM checks: the caller's policy and the
//! role's trust policy.

use crate::support::*;
use efs_fargate_core::functions::Function;
use local_stack::stack::{CLUSTER, CLUSTER_ACCESS_ROLE, StackOptions};
use serde_json::json;

fn config_as(stack: &Stack, key: &str, secret: &str, token: Option<String>) -> aws_config::SdkConfig {
    let credentials = aws_sdk_sts::config::Credentials::new(key, secret, token, None, "test");
    workflow_tests::sdk_config(stack.stack.gateway_endpoint())
        .to_builder()
        .credentials_provider(aws_sdk_sts::config::SharedCredentialsProvider::new(credentials))
        .build()
}

/// The configuration of the role `function` runs as.
fn config_of(stack: &Stack, function: Function) -> aws_config::SdkConfig {
    let role = stack
        .stack
        .roles
        .of_function(function.name())
        .expect("every function has a role");
    config_as(stack, &role.access_key_id, &role.secret_access_key, None)
}

/// The error code of a refused call.
fn refused<T: std::fmt::Debug, E: aws_sdk_sts::error::ProvideErrorMetadata + std::fmt::Debug>(
    result: Result<T, E>,
) -> String {
    match result {
        Err(error) => error.code().unwrap_or("(none)").to_string(),
        Ok(answer) => panic!("expected a refusal, got {answer:?}"),
    }
}

#[tokio::test]
async fn only_the_kubernetes_functions_assume_the_kubernetes_identity_and_it_holds_no_aws_right() {
    // The efs function's role is given the right to ask, to show that the identity's trust refuses it.
    let asks = json!({"Sid": "AsksForTheIdentity", "Effect": "Allow", "Action": "sts:AssumeRole", "Resource": CLUSTER_ACCESS_ROLE});
    let stack = stack(StackOptions {
        granted_statements: vec![("EfsRole".into(), asks)],
        schedules: false,
        ..StackOptions::default()
    })
    .await;
    let run = stack
        .provision("iam-roles", json!({"clusterName": CLUSTER, "deployPocApp": false}))
        .await;
    succeeded(&run);

    let assume = |function: Function| {
        let sts = aws_sdk_sts::Client::new(&config_of(&stack, function));
        async move {
            sts.assume_role()
                .role_arn(CLUSTER_ACCESS_ROLE)
                .role_session_name("test")
                .send()
                .await
        }
    };
    let assumed = assume(Function::PocApp)
        .await
        .expect("a Kubernetes function assumes it");
    let credentials = assumed.credentials().expect("credentials");
    let identity = config_as(
        &stack,
        credentials.access_key_id(),
        credentials.secret_access_key(),
        Some(credentials.session_token().to_string()),
    );
    // The identity itself: no AWS right at all, not even finding the cluster.
    let describe = aws_sdk_eks::Client::new(&identity)
        .describe_cluster()
        .name(CLUSTER)
        .send()
        .await;
    assert_eq!(refused(describe), "AccessDeniedException");
    // Its trust names the Kubernetes functions' roles only; prepare's policy does not even ask.
    assert_eq!(refused(assume(Function::Efs).await), "AccessDenied");
    assert_eq!(refused(assume(Function::Prepare).await), "AccessDenied");
    // And the workload role (poc-app, validate) deletes nothing: not even the run's own profile.
    let delete = aws_sdk_eks::Client::new(&config_of(&stack, Function::PocApp))
        .delete_fargate_profile()
        .cluster_name(CLUSTER)
        .fargate_profile_name(format!("fp-{}", efs_fargate_core::input::DEFAULT_NAMESPACE))
        .send()
        .await;
    assert_eq!(refused(delete), "AccessDeniedException");
    assert_eq!(stack.stack.gateway_stats().iam_denied, 4);
    stack.shutdown_after_denials().await;
}

/// A run (`input`) on a stack whose `role` lacks statement `sid`: it fails, and its cause names
/// `action` and the role.
async fn fails_without(role: &str, sid: &str, input: serde_json::Value, action: &str, cleanup: bool) {
    let stack = stack(StackOptions {
        revoked_statements: vec![(role.into(), sid.into())],
        schedules: false,
        ..StackOptions::default()
    })
    .await;
    let name = format!("iam-{}", sid.to_lowercase());
    let mut execution = stack.provision(&name, input.clone()).await;
    if cleanup {
        succeeded(&execution);
        let input = json!({"clusterName": CLUSTER, "namespace": input["namespace"]});
        execution = stack
            .stack
            .run(&stack.stack.cleanup_arn, &format!("{name}-c"), &input, TIMEOUT)
            .await
            .expect("the cleanup ends");
    }
    let cause = execution.cause.clone().unwrap_or_default();
    let local_name = local_stack::iam::role_name(role);
    assert!(
        execution.error.is_some() && cause.contains(action) && cause.contains(&local_name),
        "{execution:?}"
    );
    stack.shutdown_after_denials().await;
}

#[tokio::test]
async fn each_kubernetes_functions_role_fails_its_step_without_its_statement() {
    let namespace = "iam-roles";
    fails_without(
        "WorkloadRole",
        "KubernetesEndpoint",
        json!({"clusterName": CLUSTER, "namespace": namespace}),
        "eks:DescribeCluster",
        false,
    )
    .await;
    fails_without(
        "StorageClassRole",
        "ReadClusterOidcProviders",
        json!({"clusterName": CLUSTER, "namespace": namespace, "deployPocApp": false,
               "monitoring": {"containerInsights": true}}),
        "iam:GetOpenIDConnectProvider",
        false,
    )
    .await;
    fails_without(
        "CleanupRole",
        "CleanupDeletesOwnSecurityGroups",
        json!({"clusterName": CLUSTER, "namespace": namespace, "deployPocApp": false}),
        "ec2:DeleteSecurityGroup",
        true,
    )
    .await;
}
