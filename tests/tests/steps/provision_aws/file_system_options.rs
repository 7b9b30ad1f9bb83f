//! The input's `fileSystem` options on moto: applied at creation, converged on a re-run where EFS
//! changes them in place, and a conflict where it cannot. moto 5.2.5 has no UpdateFileSystem and
//! no PutBackupPolicy, so throughput and backup changes on an existing file system are not tested
//! here (their calls are the real EFS API shapes).

use aws_sdk_efs::types::{
    FileSystemDescription, PerformanceMode, Status, ThroughputMode, TransitionToIaRules,
    TransitionToPrimaryStorageClassRules,
};
use efs_fargate_core::ownership::RETENTION_KEY;
use efs_fargate_core::steps::efs;
use efs_fargate_core::steps::prepare::PrepareOutput;
use serde_json::{Value, json};
use workflow_tests::{CLUSTER, OrPanic, World, error_name};

async fn described(world: &World, id: &str) -> FileSystemDescription {
    let out = world
        .clients
        .efs
        .describe_file_systems()
        .file_system_id(id)
        .send()
        .await
        .or_panic("efs describe");
    out.file_systems()[0].clone()
}

/// (IA, primary) transitions of the file system's lifecycle configuration.
async fn lifecycle(
    world: &World,
    id: &str,
) -> (
    Option<TransitionToIaRules>,
    Option<TransitionToPrimaryStorageClassRules>,
) {
    let out = world
        .clients
        .efs
        .describe_lifecycle_configuration()
        .file_system_id(id)
        .send()
        .await
        .or_panic("efs describe lifecycle");
    let policies = out.lifecycle_policies();
    (
        policies.iter().find_map(|p| p.transition_to_ia().cloned()),
        policies
            .iter()
            .find_map(|p| p.transition_to_primary_storage_class().cloned()),
    )
}

async fn backup_status(world: &World, id: &str) -> Option<Status> {
    let out = world
        .clients
        .efs
        .describe_backup_policy()
        .file_system_id(id)
        .send()
        .await;
    out.ok().and_then(|o| o.backup_policy().map(|p| p.status().clone()))
}

/// `prepare` (which decides on the file system before anything is created), then the `efs` step.
async fn converge(world: &World, input: Value) -> efs_fargate_core::Result<efs::EfsOutput> {
    let PrepareOutput::Ready { run } = world.try_prepare(input).await? else {
        panic!("prepare did not finish")
    };
    efs::converge(&world.clients, &world.settings, &run, 0)
        .await
        .map(|poll| poll.output)
}

#[tokio::test]
async fn defaults_are_elastic_general_purpose_ia_after_30_days_and_backed_up() {
    let world = World::new().await;
    let created = converge(&world, json!({"clusterName": CLUSTER})).await.unwrap();
    let fs = described(&world, &created.file_system_id).await;
    assert_eq!(fs.throughput_mode(), Some(&ThroughputMode::Elastic));
    assert_eq!(fs.performance_mode(), &PerformanceMode::GeneralPurpose);
    assert_eq!(
        lifecycle(&world, &created.file_system_id).await,
        (
            Some(TransitionToIaRules::After30Days),
            Some(TransitionToPrimaryStorageClassRules::After1Access)
        )
    );
    assert_eq!(
        backup_status(&world, &created.file_system_id).await,
        Some(Status::Enabled)
    );
    let tags = world
        .inventory()
        .await
        .file_system(&created.file_system_id)
        .unwrap()
        .tags
        .clone();
    assert_eq!(tags.get(RETENTION_KEY).map(String::as_str), Some("delete"));
}

#[tokio::test]
async fn options_are_applied_at_creation_and_the_lifecycle_converges_on_a_rerun() {
    let world = World::new().await;
    let options = |lifecycle: Value| {
        json!({"clusterName": CLUSTER, "fileSystem": {
            "throughputMode": "provisioned", "provisionedThroughputMibps": 128, "performanceMode": "maxIO",
            "lifecycle": lifecycle, "backup": false, "retention": "retain"}})
    };
    let created = converge(&world, options(json!({"transitionToIA": "AFTER_7_DAYS"})))
        .await
        .unwrap();
    let id = &created.file_system_id;
    let fs = described(&world, id).await;
    assert_eq!(fs.throughput_mode(), Some(&ThroughputMode::Provisioned));
    assert_eq!(fs.provisioned_throughput_in_mibps(), Some(128.0));
    assert_eq!(fs.performance_mode(), &PerformanceMode::MaxIo);
    assert_eq!(
        lifecycle(&world, id).await,
        (
            Some(TransitionToIaRules::After7Days),
            Some(TransitionToPrimaryStorageClassRules::After1Access)
        )
    );
    assert_eq!(backup_status(&world, id).await, None, "no backup policy");
    let tags = world.inventory().await.file_system(id).unwrap().tags.clone();
    assert_eq!(tags.get(RETENTION_KEY).map(String::as_str), Some("retain"));

    let before = world.inventory().await;
    let again = converge(
        &world,
        options(json!({"transitionToIA": "AFTER_60_DAYS", "transitionToPrimaryStorageClass": "NONE"})),
    )
    .await
    .unwrap();
    assert_eq!(&again.file_system_id, id, "the same file system");
    assert_eq!(
        lifecycle(&world, id).await,
        (Some(TransitionToIaRules::After60Days), None)
    );
    assert_eq!(world.inventory().await, before, "nothing created or removed");
}

#[tokio::test]
async fn performance_mode_and_retention_cannot_change_on_an_existing_file_system() {
    let world = World::new().await;
    converge(&world, json!({"clusterName": CLUSTER})).await.unwrap();
    let before = world.inventory().await;
    for (file_system, named) in [
        (
            json!({"throughputMode": "bursting", "performanceMode": "maxIO"}),
            "performance mode",
        ),
        (json!({"retention": "retain"}), "retention"),
    ] {
        let (name, err) =
            error_name(converge(&world, json!({"clusterName": CLUSTER, "fileSystem": file_system})).await);
        assert_eq!(name, "FileSystemConflict", "{err}");
        assert!(err.to_string().contains(named), "{err}");
    }
    assert_eq!(world.inventory().await, before);
}

/// A re-run that would fail on a conflict changes nothing first: not the lifecycle it could change
/// in place, not the policy, not the alarms. `prepare` refuses it before anything is created, and
/// the step itself, handed such a run anyway (an edited run re-run from the console), decides
/// everything before it changes anything.
#[tokio::test]
async fn a_rerun_that_would_conflict_changes_no_setting_before_it_fails() {
    let world = World::new().await;
    let first = world.prepared(json!({"clusterName": CLUSTER})).await;
    let (_, storage) = world.provision(&first).await;
    let id = &storage.file_system_id;
    let policy = || async {
        world
            .clients
            .efs
            .describe_file_system_policy()
            .file_system_id(id)
            .send()
            .await
            .or_panic("efs describe policy")
            .policy
    };
    let before = (world.inventory().await, lifecycle(&world, id).await, policy().await);
    assert!(!before.0.alarms.is_empty(), "the first run made its alarms");

    let conflicting = json!({
        "clusterName": CLUSTER,
        "fileSystem": {"lifecycle": {"transitionToIA": "AFTER_7_DAYS"}},
        "posixUser": {"uid": 1000, "gid": 2000},
    });
    let (name, err) = error_name(world.try_prepare(conflicting).await);
    assert_eq!(name, "AccessPointConflict", "{err}");

    let mut edited = first.clone();
    edited.request.posix_user.gid = 2000;
    edited.request.file_system.lifecycle.transition_to_ia = "AFTER_7_DAYS".into();
    let (name, err) = error_name(efs::converge(&world.clients, &world.settings, &edited, 0).await);
    assert_eq!(name, "AccessPointConflict", "{err}");
    let mut other_mode = first.clone();
    other_mode.request.file_system.performance_mode = efs_fargate_core::input::file_system::PerformanceMode::MaxIo;
    other_mode.request.file_system.lifecycle.transition_to_ia = "AFTER_7_DAYS".into();
    let (name, err) = error_name(efs::converge(&world.clients, &world.settings, &other_mode, 0).await);
    assert_eq!(name, "FileSystemConflict", "{err}");

    let after = (world.inventory().await, lifecycle(&world, id).await, policy().await);
    assert_eq!(after, before, "not one setting changed");
    assert_eq!(
        after.1,
        (
            Some(TransitionToIaRules::After30Days),
            Some(TransitionToPrimaryStorageClassRules::After1Access)
        )
    );
}
