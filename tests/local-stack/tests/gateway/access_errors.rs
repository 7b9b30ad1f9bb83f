//! EKS's refusals, as the SDK sees them: HTTP status, error code and message.

use aws_sdk_eks::types::{AccessScope, AccessScopeType};
use workflow_tests::OrPanic;

use crate::access_support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_clusters_entries_and_associations_are_not_found() {
    let moto = workflow_tests::moto().await;
    let gw = gateway(&moto);
    let eks = &gw.eks;

    let no_cluster = eks.create_entry("nowhere", ROLE).send().await;
    let message = assert_refused(no_cluster, 404, NOT_FOUND);
    assert_eq!(message, "No cluster found for name: nowhere.");
    assert_refused(eks.list_entries("nowhere").send().await, 404, NOT_FOUND);

    create_cluster(eks, "demo", with_access_entries()).await;
    assert_refused(eks.describe_entry("demo", ROLE).send().await, 404, NOT_FOUND);
    let update = eks.update_entry("demo", ROLE).username("x").send().await;
    assert_refused(update, 404, NOT_FOUND);
    assert_refused(eks.delete_entry("demo", ROLE).send().await, 404, NOT_FOUND);
    let associate = eks.associate("demo", ROLE, VIEW, cluster_scope()).send().await;
    let message = assert_refused(associate, 404, NOT_FOUND);
    assert_eq!(
        message,
        "The specified principalArn could not be found. You can view your available access entries with 'list-access-entries'."
    );
    assert_refused(eks.list_associated("demo", ROLE).send().await, 404, NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_existing_entry_is_in_use_unless_the_create_is_a_retry() {
    let moto = workflow_tests::moto().await;
    let gw = gateway_with_demo(&moto).await;
    let create = |token: &'static str| gw.eks.create_entry("demo", ROLE).client_request_token(token).send();
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
    let create = gw.eks.create_entry("legacy", ROLE).send().await;
    assert_eq!(assert_refused(create, 400, INVALID_REQUEST), expected);
    let describe = gw.eks.describe_entry("legacy", ROLE).send().await;
    assert_refused(describe, 400, INVALID_REQUEST);
    let list = gw.eks.list_entries("legacy").send().await;
    assert_refused(list, 400, INVALID_REQUEST);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_is_an_invalid_parameter() {
    let moto = workflow_tests::moto().await;
    let gw = gateway_with_demo(&moto).await;
    let eks = &gw.eks;

    for principal in [
        "arn:aws:sts::123456789012:assumed-role/Builder/session",
        "arn:aws:iam::123456789012:group/admins",
        "Builder",
    ] {
        let refused = eks.create_entry("demo", principal).send().await;
        assert_refused(refused, 400, INVALID_PARAMETER);
    }
    let bad_type = eks.create_entry("demo", ROLE).r#type("ROOT").send().await;
    assert_refused(bad_type, 400, INVALID_PARAMETER);
    let fargate = || eks.create_entry("demo", ROLE).r#type("FARGATE_LINUX");
    let node_with_groups = fargate().kubernetes_groups("admins").send().await;
    assert_refused(node_with_groups, 400, INVALID_PARAMETER);

    let entry = fargate()
        .send()
        .await
        .or_panic("a Fargate pod execution role's entry")
        .access_entry
        .unwrap();
    assert_eq!(entry.username(), Some("system:node:{{SessionName}}"));
    let on_node_entry = eks.associate("demo", ROLE, VIEW, cluster_scope()).send().await;
    let message = assert_refused(on_node_entry, 400, INVALID_PARAMETER);
    assert_eq!(
        message,
        "This operation can only be performed on Access Entries with a type of \"STANDARD\"."
    );

    eks.create_entry("demo", USER).send().await.or_panic("create");
    let associate = |policy: &'static str, scope: AccessScope| eks.associate("demo", USER, policy, scope).send();
    let unknown_policy = associate(
        "arn:aws:eks::aws:cluster-access-policy/AmazonEKSRootPolicy",
        cluster_scope(),
    )
    .await;
    assert_refused(unknown_policy, 400, INVALID_PARAMETER);
    let no_namespaces = AccessScope::builder().r#type(AccessScopeType::Namespace).build();
    assert_refused(associate(VIEW, no_namespaces).await, 400, INVALID_PARAMETER);
}
