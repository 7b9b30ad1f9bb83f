//! `accessConfig` on clusters (reported, created with EKS's defaults, updated one way only, the
//! creator's admin entry), entries going with their cluster, the seeded clusters, and the store's
//! `resolve` read API.

use aws_sdk_eks::types::{
    AccessScopeType, AuthenticationMode, CreateAccessConfigRequest, UpdateAccessConfigRequest, UpdateStatus, UpdateType,
};
use efs_fargate_core::clients::AwsClients;
use local_stack::{AccessScope, AuthenticationMode as Mode, ResolvedAccess};
use workflow_tests::{OrPanic, SeededAccess, seed_network_with};

use crate::access_support::*;
use crate::support::via;

async fn access_config(eks: &aws_sdk_eks::Client, name: &str) -> (Option<AuthenticationMode>, Option<bool>) {
    let cluster = eks
        .describe_cluster()
        .name(name)
        .send()
        .await
        .or_panic("describe_cluster")
        .cluster
        .unwrap();
    let config = cluster.access_config().expect("DescribeCluster reports accessConfig");
    (
        config.authentication_mode().cloned(),
        config.bootstrap_cluster_creator_admin_permissions(),
    )
}

async fn set_mode(eks: &aws_sdk_eks::Client, name: &str, mode: AuthenticationMode) -> Result<(), String> {
    let updated = eks
        .update_cluster_config()
        .name(name)
        .access_config(UpdateAccessConfigRequest::builder().authentication_mode(mode).build())
        .send()
        .await;
    match updated {
        Ok(out) => {
            let update = out.update.expect("an update");
            assert_eq!(update.r#type(), Some(&UpdateType::AccessConfigUpdate));
            assert_eq!(update.status(), Some(&UpdateStatus::Successful));
            Ok(())
        }
        Err(e) => Err(assert_refused(Err::<(), _>(e), 400, INVALID_PARAMETER)),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_authentication_mode_defaults_to_config_map_and_only_ever_gains_the_api() {
    let moto = workflow_tests::moto().await;
    let gw = gateway(&moto);
    create_cluster(&gw.eks, "legacy", None).await;
    assert_eq!(
        access_config(&gw.eks, "legacy").await,
        (Some(AuthenticationMode::ConfigMap), Some(true))
    );

    let skip = set_mode(&gw.eks, "legacy", AuthenticationMode::Api).await;
    assert_eq!(
        skip,
        Err("Unsupported authentication mode update from CONFIG_MAP to API".into())
    );
    set_mode(&gw.eks, "legacy", AuthenticationMode::ApiAndConfigMap)
        .await
        .unwrap();
    assert_eq!(
        access_config(&gw.eks, "legacy").await.0,
        Some(AuthenticationMode::ApiAndConfigMap)
    );
    gw.eks
        .create_entry("legacy", ROLE)
        .send()
        .await
        .or_panic("now possible");
    set_mode(&gw.eks, "legacy", AuthenticationMode::Api).await.unwrap();
    let back = set_mode(&gw.eks, "legacy", AuthenticationMode::ApiAndConfigMap).await;
    assert_eq!(
        back,
        Err("Unsupported authentication mode update from API to API_AND_CONFIG_MAP".into())
    );
    assert_eq!(gw.store.authentication_mode("legacy"), Some(Mode::Api));

    // CONFIG_MAP needs the creator bootstrapped; refused before moto creates anything.
    let config_map_only = CreateAccessConfigRequest::builder()
        .authentication_mode(AuthenticationMode::ConfigMap)
        .bootstrap_cluster_creator_admin_permissions(false)
        .build();
    let locked_out = cluster_request(&gw.eks, "locked-out", Some(config_map_only))
        .send()
        .await;
    let message = assert_refused(locked_out, 400, INVALID_PARAMETER);
    assert_eq!(
        message,
        "bootstrapClusterCreatorAdminPermissions must be true if cluster authentication mode is set to CONFIG_MAP"
    );
    let clusters = gw.eks.list_clusters().send().await.or_panic("list_clusters");
    assert_eq!(clusters.clusters(), ["legacy"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_creator_is_bootstrapped_as_cluster_admin_unless_told_not_to() {
    let moto = workflow_tests::moto().await;
    let gw = gateway(&moto);
    let api = CreateAccessConfigRequest::builder()
        .authentication_mode(AuthenticationMode::Api)
        .build();
    create_cluster(&gw.eks, "bootstrapped", Some(api)).await;
    assert_eq!(
        access_config(&gw.eks, "bootstrapped").await,
        (Some(AuthenticationMode::Api), Some(true))
    );
    // moto's identity for credentials it did not issue: `arn:aws:sts::123456789012:user/moto`.
    let creator = "arn:aws:iam::123456789012:user/moto";
    let entries = gw.eks.list_entries("bootstrapped").send().await.or_panic("list");
    assert_eq!(entries.access_entries(), [creator]);
    let policies = gw.eks.list_associated("bootstrapped", creator).send().await;
    let policies = policies.or_panic("the creator's policies");
    let admin = &policies.associated_access_policies()[0];
    assert_eq!(admin.policy_arn(), Some(CLUSTER_ADMIN));
    // EKS lists a cluster scope with an empty namespace list.
    let scope = admin.access_scope().unwrap();
    assert_eq!(
        (scope.r#type(), scope.namespaces()),
        (Some(&AccessScopeType::Cluster), &[][..])
    );
    assert_eq!(
        gw.store.resolve("bootstrapped", "arn:aws:sts::123456789012:user/moto"),
        Some(ResolvedAccess {
            username: creator.into(),
            kubernetes_groups: vec![],
            policies: vec![("AmazonEKSClusterAdminPolicy".into(), AccessScope::Cluster)],
        })
    );

    create_cluster(&gw.eks, "not-bootstrapped", with_access_entries()).await;
    let none = gw.eks.list_entries("not-bootstrapped").send().await.or_panic("list");
    assert!(none.access_entries().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn entries_go_with_their_cluster() {
    let moto = workflow_tests::moto().await;
    let gw = gateway_with_demo(&moto).await;
    gw.eks.create_entry("demo", ROLE).send().await.or_panic("create");

    gw.eks
        .delete_cluster()
        .name("demo")
        .send()
        .await
        .or_panic("delete_cluster");
    assert_eq!(gw.store.resolve("demo", ROLE), None);
    let after = gw.eks.describe_entry("demo", ROLE).send().await;
    assert_eq!(
        assert_refused(after, 404, NOT_FOUND),
        "No cluster found for name: demo."
    );

    // A namesake starts bare, also when the old one was deleted behind the gateway's back.
    create_cluster(&gw.eks, "demo", with_access_entries()).await;
    gw.eks.create_entry("demo", ROLE).send().await.or_panic("create again");
    let direct = aws_sdk_eks::Client::new(&moto.sdk_config());
    direct
        .delete_cluster()
        .name("demo")
        .send()
        .await
        .or_panic("delete in moto");
    create_cluster(&direct, "demo", None).await;
    assert_eq!(
        access_config(&gw.eks, "demo").await.0,
        Some(AuthenticationMode::ConfigMap)
    );
    let list = gw.eks.list_entries("demo").send().await;
    assert_refused(list, 400, INVALID_REQUEST);
    assert_eq!(gw.store.resolve("demo", ROLE), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resolve_maps_a_session_to_its_roles_entry() {
    let moto = workflow_tests::moto().await;
    let gw = gateway_with_demo(&moto).await;
    let create = gw.eks.create_entry("demo", ROLE).kubernetes_groups("efs-provisioner");
    create.send().await.or_panic("create");
    let associate = gw.eks.associate("demo", ROLE, EDIT, namespaces(&["team-a"]));
    associate.send().await.or_panic("associate");

    let expected = ResolvedAccess {
        username: "arn:aws:sts::123456789012:assumed-role/Builder/run-42".into(),
        kubernetes_groups: vec!["efs-provisioner".into()],
        policies: vec![(
            "AmazonEKSEditPolicy".into(),
            AccessScope::Namespaces(vec!["team-a".into()]),
        )],
    };
    // The session ARN has no role path; the entry's principal does.
    let session = "arn:aws:sts::123456789012:assumed-role/Builder/run-42";
    assert_eq!(gw.store.resolve("demo", session), Some(expected.clone()));
    assert_eq!(
        gw.store.resolve("demo", ROLE).map(|r| r.kubernetes_groups),
        Some(expected.kubernetes_groups)
    );
    assert_eq!(
        gw.store
            .resolve("demo", "arn:aws:sts::123456789012:assumed-role/Other/s"),
        None
    );
    assert_eq!(gw.store.resolve("elsewhere", session), None);
    assert_eq!(gw.store.authentication_mode("demo"), Some(Mode::ApiAndConfigMap));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seeded_clusters_have_access_entries_and_no_creator_entry_unless_config_map_only() {
    let moto = workflow_tests::moto().await;
    let gw = gateway(&moto);
    // As the local stack seeds: the network in moto, the cluster through the gateway.
    let seeding = AwsClients {
        eks: gw.eks.clone(),
        ..moto.clients()
    };
    seed_network_with(&seeding, "demo", SeededAccess::AccessEntries).await;
    assert_eq!(
        access_config(&gw.eks, "demo").await,
        (Some(AuthenticationMode::ApiAndConfigMap), Some(false))
    );
    let entries = gw.eks.list_entries("demo").send().await.or_panic("list");
    assert!(entries.access_entries().is_empty(), "no creator entry: {entries:?}");

    moto.api("POST", "/moto-api/reset", "");
    let legacy = AwsClients {
        eks: aws_sdk_eks::Client::new(&via(&moto.sdk_config(), gw.running.endpoint(), 1)),
        ..moto.clients()
    };
    seed_network_with(&legacy, "legacy", SeededAccess::ConfigMapOnly).await;
    assert_eq!(
        access_config(&gw.eks, "legacy").await,
        (Some(AuthenticationMode::ConfigMap), Some(true))
    );
}
