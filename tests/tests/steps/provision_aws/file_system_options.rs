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

async fn converge(world: &World, input: Value) -> efs_fargate_core::Result<efs::EfsOutput> {
    let run = world.prepared(input).await;
    efs::converge(&world.clients, &workflow_tests::settings(), &run, 0)
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
