//! Cleanup leaves nothing of ours and touches nothing of anyone else's.

mod common;

use common::*;
use efs_fargate_core::steps::cleanup::CleanupAction;
use efs_fargate_core::steps::efs;
use serde_json::json;
use workflow_tests::{OrPanic, inventory, moto, seed_foreign_resources, seed_network};

#[tokio::test]
async fn cleanup_removes_everything_of_ours_and_keeps_foreign_resources() {
    let moto = moto().await;
    let clients = moto.clients();
    let seeded = seed_network(&clients, CLUSTER).await;
    let foreign = seed_foreign_resources(&clients, &seeded.vpc_id).await;
    let run = prepared(
        &clients,
        json!({"clusterName": CLUSTER, "encryption": {"kmsKeyAlias": "alias/efs-poc"}}),
    )
    .await;
    let (_, storage) = provision(&clients, &run).await;
    let our_key = storage.kms_key.clone().unwrap();

    let log = clean_up(&clients, CLUSTER, NAMESPACE).await;
    let removed: Vec<_> = log.iter().flat_map(|(_, p)| p.removed.clone()).collect();
    assert!(removed.contains(&storage.file_system_id), "{removed:?}");
    assert!(removed.contains(&storage.security_group_id), "{removed:?}");
    assert!(removed.contains(&"alias/efs-poc".to_string()), "{removed:?}");

    let after = inventory(&clients, CLUSTER).await;
    assert!(after.fargate_profiles.is_empty(), "{:?}", after.fargate_profiles);
    assert_eq!(
        after.file_systems.iter().map(|f| f.id.as_str()).collect::<Vec<_>>(),
        [foreign.file_system_id.as_str()]
    );
    assert_eq!(
        after.security_groups.iter().map(|g| g.id.as_str()).collect::<Vec<_>>(),
        [foreign.security_group_id.as_str()]
    );
    assert!(after.kms_aliases.iter().all(|a| a.name != "alias/efs-poc"));
    assert!(after.kms_aliases.iter().any(|a| a.name == "alias/foreign"));
    let key = clients
        .kms
        .describe_key()
        .key_id(&our_key.key_arn)
        .send()
        .await
        .or_panic("kms describe_key");
    assert_eq!(
        key.key_metadata().unwrap().key_state().unwrap().as_str(),
        "PendingDeletion"
    );
    let foreign_key = clients
        .kms
        .describe_key()
        .key_id(&foreign.kms_key_id)
        .send()
        .await
        .or_panic("kms describe_key");
    assert_eq!(
        foreign_key.key_metadata().unwrap().key_state().unwrap().as_str(),
        "Enabled"
    );
    assert_eq!(
        after.file_system(&foreign.file_system_id).unwrap().mount_targets.len(),
        0
    );

    // A second cleanup finds nothing to do.
    let again = clean_up(&clients, CLUSTER, NAMESPACE).await;
    assert!(again.iter().all(|(_, p)| p.done && p.removed.is_empty()), "{again:?}");
    assert_eq!(inventory(&clients, CLUSTER).await, after);
}

#[tokio::test]
async fn a_reused_key_and_an_untagged_profile_survive_cleanup() {
    let moto = moto().await;
    let clients = moto.clients();
    let seeded = seed_network(&clients, CLUSTER).await;
    let foreign = seed_foreign_resources(&clients, &seeded.vpc_id).await;
    let run = prepared(
        &clients,
        json!({"clusterName": CLUSTER, "encryption": {"kmsKeyAlias": "alias/foreign"}}),
    )
    .await;
    efs::ensure_storage(&clients, &run).await.unwrap();
    // Someone else's profile under the name the workflow would use.
    foreign_profile(&clients, POD_ROLE, vec![]).await;

    let log = clean_up(&clients, CLUSTER, NAMESPACE).await;
    let (_, profile_step) = log.iter().find(|(a, _)| *a == CleanupAction::FargateProfile).unwrap();
    assert_eq!(
        profile_step.kept,
        [format!("Fargate profile fp-{NAMESPACE} (not created by the workflow)")]
    );
    let after = inventory(&clients, CLUSTER).await;
    assert_eq!(after.fargate_profiles.len(), 1);
    let key = clients
        .kms
        .describe_key()
        .key_id(&foreign.kms_key_id)
        .send()
        .await
        .or_panic("kms describe_key");
    assert_eq!(key.key_metadata().unwrap().key_state().unwrap().as_str(), "Enabled");
    assert!(after.kms_aliases.iter().any(|a| a.name == "alias/foreign"));
    assert!(after.file_systems.iter().all(|f| f.id == foreign.file_system_id));
}

#[tokio::test]
async fn cleanup_of_one_namespace_leaves_the_other_namespace_alone() {
    let moto = moto().await;
    let clients = moto.clients();
    seed_network(&clients, CLUSTER).await;
    let a = prepared(&clients, json!({"clusterName": CLUSTER, "namespace": "team-a"})).await;
    let b = prepared(&clients, json!({"clusterName": CLUSTER, "namespace": "team-b"})).await;
    provision(&clients, &a).await;
    let (profile_b, storage_b) = provision(&clients, &b).await;

    clean_up(&clients, CLUSTER, "team-a").await;
    let after = inventory(&clients, CLUSTER).await;
    assert_eq!(
        after
            .fargate_profiles
            .iter()
            .map(|p| p.name.as_str())
            .collect::<Vec<_>>(),
        [profile_b.profile_name.as_str()]
    );
    assert_eq!(
        after.file_systems.iter().map(|f| f.id.as_str()).collect::<Vec<_>>(),
        [storage_b.file_system_id.as_str()]
    );
    assert_eq!(
        after
            .file_system(&storage_b.file_system_id)
            .unwrap()
            .mount_targets
            .len(),
        3
    );
    assert_eq!(
        after.security_groups.iter().map(|g| g.id.as_str()).collect::<Vec<_>>(),
        [storage_b.security_group_id.as_str()]
    );
}

#[tokio::test]
async fn cleanup_after_the_cluster_is_gone_still_removes_the_storage() {
    let moto = moto().await;
    let clients = moto.clients();
    seed_network(&clients, CLUSTER).await;
    let run = prepared(&clients, json!({"clusterName": CLUSTER})).await;
    provision(&clients, &run).await;
    clients
        .eks
        .delete_fargate_profile()
        .cluster_name(CLUSTER)
        .fargate_profile_name(format!("fp-{NAMESPACE}"))
        .send()
        .await
        .or_panic("eks delete profile");
    clients
        .eks
        .delete_cluster()
        .name(CLUSTER)
        .send()
        .await
        .or_panic("eks delete_cluster");

    clean_up(&clients, CLUSTER, NAMESPACE).await;
    let after = inventory(&clients, CLUSTER).await;
    assert!(
        after.file_systems.is_empty() && after.security_groups.is_empty(),
        "{after:?}"
    );
}

#[tokio::test]
async fn cleanup_rejects_a_bad_target() {
    let moto = moto().await;
    let clients = moto.clients();
    let event = efs_fargate_core::steps::cleanup::CleanupEvent {
        action: CleanupAction::FileSystem,
        cluster_name: CLUSTER.into(),
        namespace: "Not_A_Namespace".into(),
        run_id: None,
        execution_arn: None,
        attempt: 0,
    };
    let (name, _) = error_name(efs_fargate_core::steps::cleanup::cleanup(&clients, &settings(), event).await);
    assert_eq!(name, "InvalidInput");
}
