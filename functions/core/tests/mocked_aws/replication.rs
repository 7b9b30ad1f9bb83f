//! `fileSystem.replication`, which moto 5.2.5 does not emulate (it has no replication API): the
//! configuration created once to a new replica and converged on a re-run, a different region a
//! conflict, overwrite protection turned back on, and cleanup deleting the configuration before
//! the file system while never touching the replica.

use crate::fixtures::*;
use aws_sdk_efs::operation::create_replication_configuration::CreateReplicationConfigurationOutput;
use aws_sdk_efs::operation::delete_file_system::DeleteFileSystemOutput;
use aws_sdk_efs::operation::delete_replication_configuration::DeleteReplicationConfigurationOutput;
use aws_sdk_efs::operation::describe_access_points::DescribeAccessPointsOutput;
use aws_sdk_efs::operation::describe_file_systems::DescribeFileSystemsOutput;
use aws_sdk_efs::operation::describe_replication_configurations::{
    DescribeReplicationConfigurationsError, DescribeReplicationConfigurationsOutput,
};
use aws_sdk_efs::operation::update_file_system_protection::UpdateFileSystemProtectionOutput;
use aws_sdk_efs::types::error::ReplicationNotFound;
use aws_sdk_efs::types::{
    Destination, FileSystemDescription, FileSystemProtectionDescription, LifeCycleState,
    ReplicationConfigurationDescription, ReplicationOverwriteProtection, ReplicationStatus, Tag,
};
use efs_fargate_core::input::replication::Replication;
use efs_fargate_core::ledger::{Creator, Ledger};
use efs_fargate_core::resources::{Recorder, replication};

const FS: &str = "fs-0source";
const REPLICA: &str = "fs-0replica";

fn file_system(protection: ReplicationOverwriteProtection) -> FileSystemDescription {
    let mut fs = FileSystemDescription::builder()
        .owner_id("123456789012")
        .file_system_id(FS)
        .creation_token(owner().creation_token())
        .creation_time(aws_smithy_types::DateTime::from_secs(0))
        .life_cycle_state(LifeCycleState::Available)
        .number_of_mount_targets(0)
        .size_in_bytes(aws_sdk_efs::types::FileSystemSize::builder().value(0).build())
        .performance_mode(aws_sdk_efs::types::PerformanceMode::GeneralPurpose)
        .file_system_protection(
            FileSystemProtectionDescription::builder()
                .replication_overwrite_protection(protection)
                .build(),
        );
    for (key, value) in owner().tags("fs", "run-1", "local") {
        fs = fs.tags(Tag::builder().key(key).value(value).build().unwrap());
    }
    fs.build().unwrap()
}

fn configuration(region: &str, status: ReplicationStatus) -> DescribeReplicationConfigurationsOutput {
    DescribeReplicationConfigurationsOutput::builder()
        .replications(
            ReplicationConfigurationDescription::builder()
                .source_file_system_id(FS)
                .source_file_system_region("us-east-1")
                .source_file_system_arn(format!(
                    "arn:aws:elasticfilesystem:us-east-1:123456789012:file-system/{FS}"
                ))
                .original_source_file_system_arn(format!(
                    "arn:aws:elasticfilesystem:us-east-1:123456789012:file-system/{FS}"
                ))
                .creation_time(aws_smithy_types::DateTime::from_secs(0))
                .destinations(
                    Destination::builder()
                        .status(status)
                        .file_system_id(REPLICA)
                        .region(region)
                        .build()
                        .unwrap(),
                )
                .build()
                .unwrap(),
        )
        .build()
}

fn not_replicated() -> DescribeReplicationConfigurationsError {
    DescribeReplicationConfigurationsError::ReplicationNotFound(ReplicationNotFound::builder().build())
}

fn wanted(region: &str) -> Replication {
    Replication { region: region.into() }
}

/// Converges the replication of `fs` as the `efs` step does: what EFS says now, then the decision,
/// then the change, recorded in the (mocked) ledger.
async fn converge(
    clients: &AwsClients,
    fs: &FileSystemDescription,
    wanted: Option<&Replication>,
) -> Result<Option<replication::Replica>, efs_fargate_core::WorkflowError> {
    let ledger = Ledger::of(&clients.dynamodb, &settings())?;
    let (owner, creator) = (
        owner(),
        Creator {
            run_id: "run-1".into(),
            generation: 1,
        },
    );
    let recorder = Recorder {
        ledger: &ledger,
        owner: &owner,
        creator: &creator,
    };
    let existing = match wanted {
        Some(_) => replication::find(&clients.efs, fs).await?,
        None => None,
    };
    replication::decide(fs, existing.as_ref(), wanted)?;
    replication::converge(&clients.efs, recorder, fs, existing.as_ref(), wanted).await
}

#[tokio::test]
async fn a_replica_is_created_once_and_a_rerun_converges() {
    let describe = mock!(aws_sdk_efs::Client::describe_replication_configurations)
        .sequence()
        .error(not_replicated)
        .output(|| configuration("us-west-2", ReplicationStatus::Enabling))
        .repeatedly()
        .build();
    let create = mock!(aws_sdk_efs::Client::create_replication_configuration)
        .match_requests(|r| {
            r.source_file_system_id() == Some(FS)
                && r.destinations().len() == 1
                && r.destinations()[0].region() == Some("us-west-2")
                && r.destinations()[0].file_system_id().is_none()
        })
        .then_output(|| {
            let described = configuration("us-west-2", ReplicationStatus::Enabling);
            let created = &described.replications()[0];
            CreateReplicationConfigurationOutput::builder()
                .source_file_system_id(created.source_file_system_id())
                .source_file_system_region(created.source_file_system_region())
                .source_file_system_arn(created.source_file_system_arn())
                .original_source_file_system_arn(created.original_source_file_system_arn())
                .creation_time(*created.creation_time())
                .set_destinations(Some(created.destinations().to_vec()))
                .build()
                .unwrap()
        });
    let ledger = ledger_rules(vec![]);
    let intents = ledger[2].clone();
    let mocks = Mocks {
        efs: vec![describe, create.clone()],
        dynamodb: ledger,
        ..Default::default()
    };
    let clients = mocks.clients();
    let fs = file_system(ReplicationOverwriteProtection::Enabled);
    let replica = converge(&clients, &fs, Some(&wanted("us-west-2")))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (replica.region.as_str(), replica.file_system_id.as_str()),
        ("us-west-2", REPLICA)
    );
    let again = converge(&clients, &fs, Some(&wanted("us-west-2"))).await.unwrap();
    assert_eq!(again, Some(replica));
    assert_eq!(create.num_calls(), 1, "created once, never twice");
    assert_eq!(
        intents.num_calls(),
        1,
        "recorded in the ledger before it was made, once"
    );
}

#[tokio::test]
async fn another_region_is_a_conflict_and_no_replication_asked_is_no_call() {
    let describe = mock!(aws_sdk_efs::Client::describe_replication_configurations)
        .then_output(|| configuration("eu-west-1", ReplicationStatus::Enabled));
    let mocks = Mocks {
        efs: vec![describe.clone()],
        dynamodb: ledger_rules(vec![]),
        ..Default::default()
    };
    let clients = mocks.clients();
    let fs = file_system(ReplicationOverwriteProtection::Enabled);
    let err = converge(&clients, &fs, Some(&wanted("us-west-2"))).await.unwrap_err();
    assert_eq!(err.error_type(), "FileSystemConflict");
    assert!(err.to_string().contains("eu-west-1"), "{err}");
    assert_eq!(converge(&clients, &fs, None).await.unwrap(), None);
    assert_eq!(describe.num_calls(), 1, "nothing looked up without replication");
}

#[tokio::test]
async fn overwrite_protection_is_turned_back_on() {
    let protect = mock!(aws_sdk_efs::Client::update_file_system_protection)
        .match_requests(|r| {
            r.file_system_id() == Some(FS)
                && r.replication_overwrite_protection() == Some(&ReplicationOverwriteProtection::Enabled)
        })
        .then_output(|| UpdateFileSystemProtectionOutput::builder().build());
    let mocks = Mocks {
        efs: vec![protect.clone()],
        dynamodb: ledger_rules(vec![]),
        ..Default::default()
    };
    let fs = file_system(ReplicationOverwriteProtection::Disabled);
    converge(&mocks.clients(), &fs, None).await.unwrap();
    assert_eq!(protect.num_calls(), 1);
}

#[tokio::test]
async fn cleanup_deletes_the_recorded_replication_first_and_never_the_replica() {
    let fs = file_system(ReplicationOverwriteProtection::Replicating);
    let describe_fs = mock!(aws_sdk_efs::Client::describe_file_systems)
        .then_output(move || DescribeFileSystemsOutput::builder().file_systems(fs.clone()).build());
    let describe = mock!(aws_sdk_efs::Client::describe_replication_configurations)
        .sequence()
        .output(|| configuration("us-west-2", ReplicationStatus::Enabled))
        .output(|| configuration("us-west-2", ReplicationStatus::Deleting))
        .error(not_replicated)
        .build();
    let delete_replication = mock!(aws_sdk_efs::Client::delete_replication_configuration)
        .match_requests(|r| r.source_file_system_id() == Some(FS))
        .then_output(|| DeleteReplicationConfigurationOutput::builder().build());
    // Only the source: a DeleteFileSystem of the replica matches no rule and fails the test.
    let delete_fs = mock!(aws_sdk_efs::Client::delete_file_system)
        .match_requests(|r| r.file_system_id() == Some(FS))
        .then_output(|| DeleteFileSystemOutput::builder().build());
    // The namespace has no access point: the file system goes right after its replication.
    let no_access_points = mock!(aws_sdk_efs::Client::describe_access_points)
        .then_output(|| DescribeAccessPointsOutput::builder().build());
    let mocks = Mocks {
        efs: vec![
            describe_fs,
            describe,
            no_access_points,
            delete_replication.clone(),
            delete_fs.clone(),
        ],
        dynamodb: ledger_rules(vec![
            record(Some(NAMESPACE), Kind::FileSystem, &owner().creation_token(), FS),
            record(Some(NAMESPACE), Kind::Replication, "us-west-2", FS),
        ]),
        ..Default::default()
    };
    let clients = mocks.clients();
    let event = || cleanup_event(CleanupAction::FileSystem, NAMESPACE);

    let first = cleanup(&clients, &settings(), event()).await.unwrap();
    assert!(!first.ready);
    assert_eq!(delete_replication.num_calls(), 1);
    assert_eq!(
        delete_fs.num_calls(),
        0,
        "the file system waits for its replication to go"
    );
    let reported = &first.output.removed[0];
    assert!(
        reported.contains(&format!("replication configuration of {FS}"))
            && reported.contains(REPLICA)
            && reported.contains("never deletes"),
        "{reported}"
    );

    let deleting = cleanup(&clients, &settings(), event()).await.unwrap();
    assert!(!deleting.ready);
    assert_eq!(delete_replication.num_calls(), 1, "not deleted twice");
    assert_eq!(delete_fs.num_calls(), 0);

    let third = cleanup(&clients, &settings(), event()).await.unwrap();
    assert_eq!(third.output.removed, [FS]);
    assert_eq!(delete_fs.num_calls(), 1);
}
