//! Cleanup leaves nothing of ours and touches nothing of anyone else's.

use efs_fargate_core::resources::NOT_RECORDED;
use efs_fargate_core::steps::cleanup::{CleanupAction, cleanup};
use efs_fargate_core::steps::efs;
use serde_json::json;
use workflow_tests::{CLUSTER, Foreign, NAMESPACE, OrPanic, POD_ROLE, World, cleanup_event, error_name};

/// A world with someone else's resources, where a run that names the KMS alias `alias` is
/// prepared.
async fn foreign_resources_and_a_run_with_key(alias: &str) -> (World, Foreign, efs_fargate_core::run::Run) {
    let world = World::new().await;
    let foreign = world.foreign_resources().await;
    let run = world
        .prepared(json!({"clusterName": CLUSTER, "encryption": {"kmsKeyAlias": alias}}))
        .await;
    (world, foreign, run)
}

#[tokio::test]
async fn cleanup_removes_everything_of_ours_and_keeps_foreign_resources() {
    let (world, foreign, run) = foreign_resources_and_a_run_with_key("alias/efs-poc").await;
    let (_, storage) = world.provision(&run).await;
    let our_key = storage.kms_key.clone().unwrap();

    let log = world.clean_up(NAMESPACE).await;
    let removed: Vec<_> = log.iter().flat_map(|(_, p)| p.output.removed.clone()).collect();
    assert!(removed.contains(&storage.file_system_id), "{removed:?}");
    assert!(removed.contains(&storage.security_group_id), "{removed:?}");
    assert!(removed.contains(&"alias/efs-poc".to_string()), "{removed:?}");

    let after = world.inventory().await;
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
    assert_eq!(world.key_state(&our_key.key_arn).await, "PendingDeletion");
    assert_eq!(world.key_state(&foreign.kms_key_id).await, "Enabled");
    assert_eq!(
        after.file_system(&foreign.file_system_id).unwrap().mount_targets.len(),
        0
    );

    // A second cleanup finds nothing to do.
    let again = world.clean_up(NAMESPACE).await;
    assert!(
        again.iter().all(|(_, p)| p.ready && p.output.removed.is_empty()),
        "{again:?}"
    );
    assert_eq!(world.inventory().await, after);
}

#[tokio::test]
async fn a_reused_key_and_an_untagged_profile_survive_cleanup() {
    let (world, foreign, run) = foreign_resources_and_a_run_with_key("alias/foreign").await;
    efs::converge(&world.clients, &workflow_tests::settings(), &run, 0)
        .await
        .map(|poll| poll.output)
        .unwrap();
    // Someone else's profile under the name the workflow would use.
    world.foreign_profile(POD_ROLE, vec![]).await;

    let log = world.clean_up(NAMESPACE).await;
    let (_, profile_step) = log.iter().find(|(a, _)| *a == CleanupAction::FargateProfile).unwrap();
    assert_eq!(
        profile_step.output.kept,
        [format!("Fargate profile fp-{NAMESPACE} ({NOT_RECORDED})")]
    );
    let after = world.inventory().await;
    assert_eq!(after.fargate_profiles.len(), 1);
    assert_eq!(world.key_state(&foreign.kms_key_id).await, "Enabled");
    assert!(after.kms_aliases.iter().any(|a| a.name == "alias/foreign"));
    assert!(after.file_systems.iter().all(|f| f.id == foreign.file_system_id));
}

#[tokio::test]
async fn cleanup_of_one_namespace_leaves_the_other_namespace_alone() {
    let world = World::new().await;
    let a = world.run("team-a").await;
    let b = world.run("team-b").await;
    world.provision(&a).await;
    let (profile_b, storage_b) = world.provision(&b).await;

    world.clean_up("team-a").await;
    let after = world.inventory().await;
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
    let world = World::new().await;
    let run = world.prepared(json!({"clusterName": CLUSTER})).await;
    world.provision(&run).await;
    let eks = &world.clients.eks;
    eks.delete_fargate_profile()
        .cluster_name(CLUSTER)
        .fargate_profile_name(format!("fp-{NAMESPACE}"))
        .send()
        .await
        .or_panic("eks delete profile");
    eks.delete_cluster()
        .name(CLUSTER)
        .send()
        .await
        .or_panic("eks delete_cluster");

    world.clean_up(NAMESPACE).await;
    let after = world.inventory().await;
    assert!(
        after.file_systems.is_empty() && after.security_groups.is_empty(),
        "{after:?}"
    );
}

#[tokio::test]
async fn cleanup_rejects_a_bad_target() {
    let world = World::empty().await;
    let event = cleanup_event(CleanupAction::FileSystem, CLUSTER, "Not_A_Namespace");
    let (name, _) = error_name(cleanup(&world.clients, &world.settings, event).await);
    assert_eq!(name, "InvalidInput");
}

/// Keys that carry the workflow's tags (copied, or left by an older version) but that the ledger
/// does not record are never scheduled for deletion: anyone allowed to tag a key could otherwise
/// have it deleted, and with it the data of every service that uses it.
#[tokio::test]
async fn keys_the_ledger_does_not_record_are_never_retired_whatever_their_tags() {
    let world = World::new().await;
    let owner = efs_fargate_core::ownership::Owner::new(CLUSTER, NAMESPACE);
    let create_key = async |tags: Vec<(String, String)>| {
        let tags = tags.into_iter().map(|(k, v)| {
            aws_sdk_kms::types::Tag::builder()
                .tag_key(k)
                .tag_value(v)
                .build()
                .unwrap()
        });
        world
            .clients
            .kms
            .create_key()
            .set_tags(Some(tags.collect()))
            .send()
            .await
            .or_panic("kms create_key")
            .key_metadata
            .expect("key metadata")
            .key_id
    };
    let tagged = create_key(owner.tags("alias/efs-poc", "run-1", "local")).await;
    let foreign = create_key(vec![("Name".into(), "someone else's".into())]).await;

    let progress = cleanup(
        &world.clients,
        &world.settings,
        cleanup_event(CleanupAction::KmsKey, CLUSTER, NAMESPACE),
    )
    .await
    .unwrap();
    assert!(progress.ready && progress.output.removed.is_empty(), "{progress:?}");
    assert_eq!(world.key_state(&tagged).await, "Enabled");
    assert_eq!(world.key_state(&foreign).await, "Enabled");
}

#[tokio::test]
async fn a_retained_file_system_keeps_its_mount_targets_and_security_group_and_is_reported() {
    let world = World::new().await;
    let run = world
        .prepared(json!({"clusterName": CLUSTER, "fileSystem": {"retention": "retain"}}))
        .await;
    let (_, storage) = world.provision(&run).await;

    let log = world.clean_up(NAMESPACE).await;
    let kept: Vec<_> = log.iter().flat_map(|(_, p)| p.output.kept.clone()).collect();
    let removed: Vec<_> = log.iter().flat_map(|(_, p)| p.output.removed.clone()).collect();
    let fs = &storage.file_system_id;
    for what in [
        format!("file system {fs} (retained"),
        format!("mount targets of file system {fs} (retained"),
        format!(
            "security group {} (used by retained file system {fs})",
            storage.security_group_id
        ),
        format!(
            "access point {} (on retained file system {fs})",
            storage.access_point.as_ref().unwrap().access_point_id
        ),
    ] {
        assert!(kept.iter().any(|k| k.starts_with(&what)), "{what} not in {kept:?}");
    }
    assert!(
        !removed.contains(fs) && !removed.contains(&storage.security_group_id),
        "{removed:?}"
    );

    let after = world.inventory().await;
    assert!(
        after.fargate_profiles.is_empty(),
        "the rest is cleaned up: {:?}",
        after.fargate_profiles
    );
    let retained = after.file_system(fs).expect("the file system stays");
    assert_eq!(retained.mount_targets.len(), storage.mount_targets.len());
    assert!(after.security_group(&storage.security_group_id).is_some());
}

#[tokio::test]
async fn cleanup_removes_the_namespace_access_point_and_leaves_another_namespace_s() {
    let world = World::new().await;
    let ours = world.run(NAMESPACE).await;
    let theirs = world.run("team-b").await;
    let (_, our_storage) = world.provision(&ours).await;
    let (_, their_storage) = world.provision(&theirs).await;
    let our_ap = our_storage.access_point.unwrap().access_point_id;
    let their_ap = their_storage.access_point.unwrap().access_point_id;

    let log = world.clean_up(NAMESPACE).await;
    let removed: Vec<_> = log.iter().flat_map(|(_, p)| p.output.removed.clone()).collect();
    assert!(removed.contains(&our_ap), "{removed:?}");
    let left: Vec<String> = world
        .clients
        .efs
        .describe_access_points()
        .send()
        .await
        .or_panic("efs describe access points")
        .access_points()
        .iter()
        .filter_map(|ap| ap.access_point_id().map(str::to_string))
        .collect();
    assert_eq!(left, [their_ap]);
}

#[tokio::test]
async fn a_rollback_of_a_later_run_keeps_the_file_system_and_access_point_an_earlier_run_created() {
    let world = World::new().await;
    let first = world.run(NAMESPACE).await;
    let (_, storage) = world.provision(&first).await;
    let access_point = storage.access_point.unwrap().access_point_id;
    // A re-run finds both (look-up before create) and then fails: its rollback is scoped to it.
    let rerun = efs_fargate_core::run::Run {
        run_id: "run-2".into(),
        ..first.clone()
    };
    let (_, again) = world.provision(&rerun).await;
    assert_eq!(again.access_point.unwrap().access_point_id, access_point);

    let log = world.roll_back(NAMESPACE, Some(&rerun.run_id)).await;
    let removed: Vec<_> = log.iter().flat_map(|(_, p)| p.output.removed.clone()).collect();
    let kept: Vec<_> = log.iter().flat_map(|(_, p)| p.output.kept.clone()).collect();
    assert!(
        !removed
            .iter()
            .any(|r| r.contains(&access_point) || r.contains(&storage.file_system_id)),
        "{removed:?}"
    );
    assert!(kept.iter().any(|k| k.contains(&storage.file_system_id)), "{kept:?}");
    let left = world
        .clients
        .efs
        .describe_access_points()
        .access_point_id(&access_point)
        .send()
        .await
        .or_panic("efs describe access points");
    assert_eq!(
        left.access_points().len(),
        1,
        "the earlier run's access point is still there"
    );
}
