//! EFS: file systems, their settings (throughput, lifecycle, backup, policy), mount targets and
//! access points.

use super::{all, found};
use crate::error::{Result, WorkflowError};
use aws_sdk_efs::operation::create_access_point::builders::CreateAccessPointFluentBuilder;
use aws_sdk_efs::operation::create_file_system::builders::CreateFileSystemFluentBuilder;
use aws_sdk_efs::types::{
    AccessPointDescription, BackupPolicy, DestinationToCreate, FileSystemDescription, LifecyclePolicy,
    MountTargetDescription, ReplicationConfigurationDescription, ReplicationOverwriteProtection, Status,
    ThroughputMode,
};

/// The file system with this creation token (at most one: EFS enforces it).
pub async fn file_system_by_token(efs: &aws_sdk_efs::Client, token: &str) -> Result<Option<FileSystemDescription>> {
    let found = efs
        .describe_file_systems()
        .creation_token(token)
        .send()
        .await
        .map_err(|e| WorkflowError::from_sdk("efs:DescribeFileSystems", e))?;
    Ok(found.file_systems().first().cloned())
}

/// Every file system in the account and region.
pub async fn file_systems(efs: &aws_sdk_efs::Client) -> Result<Vec<FileSystemDescription>> {
    all(
        efs.describe_file_systems().into_paginator().items().send().collect(),
        "efs:DescribeFileSystems",
    )
    .await
}

/// Sends a prepared CreateFileSystem: the new file system's id, or `None` for
/// `FileSystemAlreadyExists` (a retry after a lost response; its id may be missing, so the caller
/// looks the file system up by its creation token).
pub async fn create_file_system(request: CreateFileSystemFluentBuilder) -> Result<Option<String>> {
    match request.send().await {
        Ok(fs) => {
            tracing::info!(file_system = fs.file_system_id(), "EFS file system created");
            Ok(Some(fs.file_system_id().to_string()))
        }
        Err(e) if e.as_service_error().is_some_and(|s| s.is_file_system_already_exists()) => Ok(None),
        Err(e) => Err(WorkflowError::from_sdk("efs:CreateFileSystem", e)),
    }
}

/// The file system by its id, if it exists.
pub async fn file_system(efs: &aws_sdk_efs::Client, file_system_id: &str) -> Result<Option<FileSystemDescription>> {
    let described = efs.describe_file_systems().file_system_id(file_system_id).send().await;
    Ok(
        found(described, "efs:DescribeFileSystems", |e| e.is_file_system_not_found())?
            .and_then(|out| out.file_systems().first().cloned()),
    )
}

/// `DependencyNotReady` while mount targets remain; `false` when the file system is gone already.
pub async fn delete_file_system(efs: &aws_sdk_efs::Client, file_system_id: &str) -> Result<bool> {
    match efs.delete_file_system().file_system_id(file_system_id).send().await {
        Err(e) if e.as_service_error().is_some_and(|s| s.is_file_system_in_use()) => {
            Err(WorkflowError::DependencyNotReady {
                resource: format!("file system {file_system_id}"),
                message: "it still has mount targets".into(),
            })
        }
        other => Ok(found(other, "efs:DeleteFileSystem", |e| e.is_file_system_not_found())?.is_some()),
    }
}

/// The file system's mount targets; none for a file system that is gone.
pub async fn mount_targets(efs: &aws_sdk_efs::Client, file_system_id: &str) -> Result<Vec<MountTargetDescription>> {
    let described = efs.describe_mount_targets().file_system_id(file_system_id).send().await;
    Ok(
        found(described, "efs:DescribeMountTargets", |e| e.is_file_system_not_found())?
            .map(|out| out.mount_targets().to_vec())
            .unwrap_or_default(),
    )
}

/// `false` when the zone has a mount target already (`MountTargetConflict`: a concurrent retry).
pub async fn create_mount_target(
    efs: &aws_sdk_efs::Client,
    file_system_id: &str,
    subnet_id: &str,
    security_group_id: &str,
) -> Result<bool> {
    let created = efs
        .create_mount_target()
        .file_system_id(file_system_id)
        .subnet_id(subnet_id)
        .security_groups(security_group_id)
        .send()
        .await;
    Ok(found(created, "efs:CreateMountTarget", |e| e.is_mount_target_conflict())?.is_some())
}

/// `false` when the mount target is gone already.
pub async fn delete_mount_target(efs: &aws_sdk_efs::Client, mount_target_id: &str) -> Result<bool> {
    let deleted = efs.delete_mount_target().mount_target_id(mount_target_id).send().await;
    Ok(found(deleted, "efs:DeleteMountTarget", |e| e.is_mount_target_not_found())?.is_some())
}

/// Changes the throughput of an `available` file system (the only setting EFS changes in place).
pub async fn update_throughput(
    efs: &aws_sdk_efs::Client,
    file_system_id: &str,
    mode: ThroughputMode,
    provisioned_mibps: Option<f64>,
) -> Result<()> {
    efs.update_file_system()
        .file_system_id(file_system_id)
        .throughput_mode(mode)
        .set_provisioned_throughput_in_mibps(provisioned_mibps)
        .send()
        .await
        .map_err(|e| WorkflowError::from_sdk("efs:UpdateFileSystem", e))?;
    Ok(())
}

/// The file system's lifecycle policies (none when it has no lifecycle configuration).
pub async fn lifecycle_policies(efs: &aws_sdk_efs::Client, file_system_id: &str) -> Result<Vec<LifecyclePolicy>> {
    let described = efs
        .describe_lifecycle_configuration()
        .file_system_id(file_system_id)
        .send()
        .await
        .map_err(|e| WorkflowError::from_sdk("efs:DescribeLifecycleConfiguration", e))?;
    Ok(described.lifecycle_policies().to_vec())
}

/// Replaces the lifecycle configuration (an empty list removes every transition).
pub async fn put_lifecycle_policies(
    efs: &aws_sdk_efs::Client,
    file_system_id: &str,
    policies: Vec<LifecyclePolicy>,
) -> Result<()> {
    efs.put_lifecycle_configuration()
        .file_system_id(file_system_id)
        .set_lifecycle_policies(Some(policies))
        .send()
        .await
        .map_err(|e| WorkflowError::from_sdk("efs:PutLifecycleConfiguration", e))?;
    Ok(())
}

/// Whether automatic backups are on (`ENABLED` or `ENABLING`); a file system without a backup
/// policy (`PolicyNotFound`) has them off.
pub async fn backup_enabled(efs: &aws_sdk_efs::Client, file_system_id: &str) -> Result<bool> {
    let described = efs.describe_backup_policy().file_system_id(file_system_id).send().await;
    let status = found(described, "efs:DescribeBackupPolicy", |e| e.is_policy_not_found())?
        .and_then(|out| out.backup_policy().map(|p| p.status().clone()));
    Ok(matches!(status, Some(Status::Enabled | Status::Enabling)))
}

pub async fn put_backup_policy(efs: &aws_sdk_efs::Client, file_system_id: &str, enabled: bool) -> Result<()> {
    let status = if enabled { Status::Enabled } else { Status::Disabled };
    let policy = BackupPolicy::builder()
        .status(status)
        .build()
        .map_err(|e| WorkflowError::invalid("fileSystem.backup", e.to_string()))?;
    efs.put_backup_policy()
        .file_system_id(file_system_id)
        .backup_policy(policy)
        .send()
        .await
        .map_err(|e| WorkflowError::from_sdk("efs:PutBackupPolicy", e))?;
    Ok(())
}

/// The file system's access points; none for a file system that is gone.
pub async fn access_points(efs: &aws_sdk_efs::Client, file_system_id: &str) -> Result<Vec<AccessPointDescription>> {
    let mut points = Vec::new();
    let mut pages = efs
        .describe_access_points()
        .file_system_id(file_system_id)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        match found(page, "efs:DescribeAccessPoints", |e| e.is_file_system_not_found())? {
            Some(page) => points.extend(page.access_points().iter().cloned()),
            None => return Ok(vec![]),
        }
    }
    Ok(points)
}

/// Sends a prepared CreateAccessPoint (its ClientToken makes a retry after a lost response return
/// the same access point).
pub async fn create_access_point(request: CreateAccessPointFluentBuilder) -> Result<AccessPointDescription> {
    let created = request
        .send()
        .await
        .map_err(|e| WorkflowError::from_sdk("efs:CreateAccessPoint", e))?;
    tracing::info!(access_point = created.access_point_id(), "EFS access point created");
    Ok(AccessPointDescription::builder()
        .set_access_point_id(created.access_point_id().map(str::to_string))
        .set_access_point_arn(created.access_point_arn().map(str::to_string))
        .set_file_system_id(created.file_system_id().map(str::to_string))
        .set_posix_user(created.posix_user().cloned())
        .set_root_directory(created.root_directory().cloned())
        .set_life_cycle_state(created.life_cycle_state().cloned())
        .set_tags(Some(created.tags().to_vec()))
        .build())
}

/// `false` when the access point is gone already.
pub async fn delete_access_point(efs: &aws_sdk_efs::Client, access_point_id: &str) -> Result<bool> {
    let deleted = efs.delete_access_point().access_point_id(access_point_id).send().await;
    Ok(found(deleted, "efs:DeleteAccessPoint", |e| e.is_access_point_not_found())?.is_some())
}

/// The file system policy's JSON text; `None` when the file system has none (`PolicyNotFound`).
pub async fn file_system_policy(efs: &aws_sdk_efs::Client, file_system_id: &str) -> Result<Option<String>> {
    let described = efs
        .describe_file_system_policy()
        .file_system_id(file_system_id)
        .send()
        .await;
    Ok(
        found(described, "efs:DescribeFileSystemPolicy", |e| e.is_policy_not_found())?
            .and_then(|out| out.policy().map(str::to_string)),
    )
}

/// Replaces the file system policy. The lockout safety check stays on: the policy only restricts
/// NFS clients, never the workflow's API calls.
pub async fn put_file_system_policy(efs: &aws_sdk_efs::Client, file_system_id: &str, policy: &str) -> Result<()> {
    efs.put_file_system_policy()
        .file_system_id(file_system_id)
        .policy(policy)
        .send()
        .await
        .map_err(|e| WorkflowError::from_sdk("efs:PutFileSystemPolicy", e))?;
    Ok(())
}

/// The replication configuration the file system is part of (as source or destination), if any.
pub async fn replication(
    efs: &aws_sdk_efs::Client,
    file_system_id: &str,
) -> Result<Option<ReplicationConfigurationDescription>> {
    let described = efs
        .describe_replication_configurations()
        .file_system_id(file_system_id)
        .send()
        .await;
    Ok(found(described, "efs:DescribeReplicationConfigurations", |e| {
        e.is_replication_not_found() || e.is_file_system_not_found()
    })?
    .and_then(|out| out.replications().first().cloned()))
}

/// Replicates the file system to a new file system EFS creates in `region`.
pub async fn create_replication(efs: &aws_sdk_efs::Client, file_system_id: &str, region: &str) -> Result<()> {
    efs.create_replication_configuration()
        .source_file_system_id(file_system_id)
        .destinations(DestinationToCreate::builder().region(region).build())
        .send()
        .await
        .map(|_| ())
        .map_err(|e| WorkflowError::from_sdk("efs:CreateReplicationConfiguration", e))
}

/// `false` when the file system has no replication configuration (any more).
pub async fn delete_replication(efs: &aws_sdk_efs::Client, source_file_system_id: &str) -> Result<bool> {
    let deleted = efs
        .delete_replication_configuration()
        .source_file_system_id(source_file_system_id)
        .send()
        .await;
    Ok(found(deleted, "efs:DeleteReplicationConfiguration", |e| {
        e.is_replication_not_found() || e.is_file_system_not_found()
    })?
    .is_some())
}

/// Turns replication overwrite protection back on: nobody may make the file system a replica
/// (which would overwrite its data).
pub async fn protect_from_overwrite(efs: &aws_sdk_efs::Client, file_system_id: &str) -> Result<()> {
    efs.update_file_system_protection()
        .file_system_id(file_system_id)
        .replication_overwrite_protection(ReplicationOverwriteProtection::Enabled)
        .send()
        .await
        .map(|_| ())
        .map_err(|e| WorkflowError::from_sdk("efs:UpdateFileSystemProtection", e))
}
