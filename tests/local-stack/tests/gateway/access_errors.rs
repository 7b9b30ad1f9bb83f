//! EKS's refusals, as the SDK sees them: HTTP status, error code and message.

use aws_sdk_eks::types::{AccessScope, AccessScopeType};
use workflow_tests::OrPanic;

use crate::access_support::*;

fn cluster_scope() -> AccessScope {
    AccessScope::builder().r#type(AccessScopeType::Cluster).build()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_clusters_entries_and_associations_are_not_found() {
    let moto = workflow_tests::moto().await;
    let gw = gateway(&moto);
    let eks = &gw.eks;

    let no_cluster = eks
        .create_access_entry()
        .cluster_name("nowhere")
        .principal_arn(ROLE)
        .send()
        .await;
    let message = assert_refused(no_cluster, 404, "ResourceNotFoundException");
    assert_eq!(message, "No cluster found for name: nowhere.");
    let no_cluster = eks.list_access_entries().cluster_name("nowhere").send().await;
    assert_refused(no_cluster, 404, "ResourceNotFoundException");

    create_cluster(eks, "demo", with_access_entries()).await;
    let describe = eks
        .describe_access_entry()
        .cluster_name("demo")
        .principal_arn(ROLE)
        .send()
        .await;
    assert_refused(describe, 404, "ResourceNotFoundException");
    let update = eks
        .update_access_entry()
        .cluster_name("demo")
        .principal_arn(ROLE)
        .username("x")
        .send()
        .await;
    assert_refused(update, 404, "ResourceNotFoundException");
    let delete = eks
        .delete_access_entry()
        .cluster_name("demo")
        .principal_arn(ROLE)
        .send()
        .await;
    assert_refused(delete, 404, "ResourceNotFoundException");
    let associate = eks
        .associate_access_policy()
        .cluster_name("demo")
        .principal_arn(ROLE)
        .policy_arn(VIEW)
        .access_scope(cluster_scope())
        .send()
        .await;
    let message = assert_refused(associate, 404, "ResourceNotFoundException");
    assert_eq!(
        message,
        "The specified principalArn could not be found. You can view your available access entries with 'list-access-entries'."
    );
    let listed = eks
        .list_associated_access_policies()
        .cluster_name("demo")
        .principal_arn(ROLE)
        .send()
        .await;
    assert_refused(listed, 404, "ResourceNotFoundException");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_existing_entry_is_in_use_unless_the_create_is_a_retry() {
    let moto = workflow_tests::moto().await;
    let gw = gateway(&moto);
    create_cluster(&gw.eks, "demo", with_access_entries()).await;
    let create = |token: &'static str| {
        gw.eks
            .create_access_entry()
            .cluster_name("demo")
            .principal_arn(ROLE)
            .client_request_token(token)
            .send()
    };
    let first = create("t-1").await.or_panic("create").access_entry.unwrap();
    let retried = create("t-1")
        .await
        .or_panic("the same request again")
        .access_entry
        .unwrap();
    assert_eq!(retried, first, "a retry with the same token gets the entry back");
    let message = assert_refused(create("t-2").await, 409, "ResourceInUseException");
    assert_eq!(
        message,
        "The specified access entry resource is already in use on this cluster."
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_config_map_cluster_has_no_access_entry_api() {
    let moto = workflow_tests::moto().await;
    let gw = gateway(&moto);
    create_cluster(&gw.eks, "legacy", None).await;
    let expected =
        "The cluster's authentication mode must be set to one of [API, API_AND_CONFIG_MAP] to perform this operation.";
    let create = gw
        .eks
        .create_access_entry()
        .cluster_name("legacy")
        .principal_arn(ROLE)
        .send()
        .await;
    assert_eq!(assert_refused(create, 400, "InvalidRequestException"), expected);
    let describe = gw
        .eks
        .describe_access_entry()
        .cluster_name("legacy")
        .principal_arn(ROLE)
        .send()
        .await;
    assert_refused(describe, 400, "InvalidRequestException");
    let list = gw.eks.list_access_entries().cluster_name("legacy").send().await;
    assert_refused(list, 400, "InvalidRequestException");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_is_an_invalid_parameter() {
    let moto = workflow_tests::moto().await;
    let gw = gateway(&moto);
    let eks = &gw.eks;
    create_cluster(eks, "demo", with_access_entries()).await;

    for principal in [
        "arn:aws:sts::123456789012:assumed-role/Builder/session",
        "arn:aws:iam::123456789012:group/admins",
        "Builder",
    ] {
        let refused = eks
            .create_access_entry()
            .cluster_name("demo")
            .principal_arn(principal)
            .send()
            .await;
        assert_refused(refused, 400, "InvalidParameterException");
    }
    let bad_type = eks
        .create_access_entry()
        .cluster_name("demo")
        .principal_arn(ROLE)
        .r#type("ROOT")
        .send()
        .await;
    assert_refused(bad_type, 400, "InvalidParameterException");
    let node_with_groups = eks
        .create_access_entry()
        .cluster_name("demo")
        .principal_arn(ROLE)
        .r#type("FARGATE_LINUX")
        .kubernetes_groups("admins")
        .send()
        .await;
    assert_refused(node_with_groups, 400, "InvalidParameterException");

    let fargate = eks
        .create_access_entry()
        .cluster_name("demo")
        .principal_arn(ROLE)
        .r#type("FARGATE_LINUX")
        .send()
        .await
        .or_panic("a Fargate pod execution role's entry")
        .access_entry
        .unwrap();
    assert_eq!(fargate.username(), Some("system:node:{{SessionName}}"));
    let on_node_entry = eks
        .associate_access_policy()
        .cluster_name("demo")
        .principal_arn(ROLE)
        .policy_arn(VIEW)
        .access_scope(cluster_scope())
        .send()
        .await;
    let message = assert_refused(on_node_entry, 400, "InvalidParameterException");
    assert_eq!(
        message,
        "This operation can only be performed on Access Entries with a type of \"STANDARD\"."
    );

    eks.create_access_entry()
        .cluster_name("demo")
        .principal_arn(USER)
        .send()
        .await
        .or_panic("create");
    let associate = |policy: &'static str, scope: AccessScope| {
        eks.associate_access_policy()
            .cluster_name("demo")
            .principal_arn(USER)
            .policy_arn(policy)
            .access_scope(scope)
            .send()
    };
    let unknown_policy = associate(
        "arn:aws:eks::aws:cluster-access-policy/AmazonEKSRootPolicy",
        cluster_scope(),
    )
    .await;
    assert_refused(unknown_policy, 400, "InvalidParameterException");
    let no_namespaces = AccessScope::builder().r#type(AccessScopeType::Namespace).build();
    assert_refused(associate(VIEW, no_namespaces).await, 400, "InvalidParameterException");
}
