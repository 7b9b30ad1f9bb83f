//! The `mount-targets`, `file-system` and `security-group` cleanup actions.

use super::scope::kept;
use super::{CleanupProgress, Scope, done, pending};
use crate::error::{Result, WorkflowError, sdk_error_code};
use crate::ownership::Owner;
use crate::steps::efs;
use aws_sdk_efs::types::{FileSystemDescription, LifeCycleState};

/// The file system that answers to the namespace's creation token, if this cleanup may delete it;
/// `Err(kept)` with the reason when it stays.
async fn deletable_file_system(
    efs_client: &aws_sdk_efs::Client,
    owner: &Owner,
    scope: &Scope,
) -> Result<Option<std::result::Result<FileSystemDescription, String>>> {
    let Some(fs) = efs::file_system::find_by_token(efs_client, &owner.creation_token()).await? else {
        return Ok(None);
    };
    let why_kept = scope.why_kept(owner, fs.tags().iter().map(|t| (t.key(), t.value())));
    Ok(Some(match why_kept {
        None => Ok(fs),
        Some(why) => Err(kept(format!("file system {}", fs.file_system_id()), why)),
    }))
}

/// The mount targets of our file system. They carry no tags of their own: in a rollback they go
/// with the file system only when that run created it.
pub async fn mount_targets(efs_client: &aws_sdk_efs::Client, owner: &Owner, scope: &Scope) -> Result<CleanupProgress> {
    let fs = match deletable_file_system(efs_client, owner, scope).await? {
        None => return Ok(done(vec![], vec![])),
        Some(Err(kept)) => return Ok(done(vec![], vec![format!("mount targets of {kept}")])),
        Some(Ok(fs)) => fs,
    };
    let targets = efs::mount_targets::list(efs_client, fs.file_system_id()).await?;
    if targets.is_empty() {
        return Ok(done(vec![], vec![]));
    }
    let mut removed = Vec::new();
    for mt in targets
        .iter()
        .filter(|mt| *mt.life_cycle_state() != LifeCycleState::Deleting)
    {
        match efs_client
            .delete_mount_target()
            .mount_target_id(mt.mount_target_id())
            .send()
            .await
        {
            Ok(_) => removed.push(mt.mount_target_id().to_string()),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_mount_target_not_found()) => {}
            Err(e) => return Err(WorkflowError::from_sdk("efs:DeleteMountTarget", e)),
        }
    }
    Ok(pending(removed))
}

pub async fn file_system(efs_client: &aws_sdk_efs::Client, owner: &Owner, scope: &Scope) -> Result<CleanupProgress> {
    let fs = match deletable_file_system(efs_client, owner, scope).await? {
        None => return Ok(done(vec![], vec![])),
        Some(Err(kept)) => return Ok(done(vec![], vec![kept])),
        Some(Ok(fs)) => fs,
    };
    if *fs.life_cycle_state() == LifeCycleState::Deleting {
        return Ok(pending(vec![]));
    }
    match efs_client
        .delete_file_system()
        .file_system_id(fs.file_system_id())
        .send()
        .await
    {
        Ok(_) => Ok(pending(vec![fs.file_system_id().to_string()])),
        Err(e) if e.as_service_error().is_some_and(|s| s.is_file_system_not_found()) => Ok(done(vec![], vec![])),
        Err(e) if e.as_service_error().is_some_and(|s| s.is_file_system_in_use()) => {
            Err(WorkflowError::DependencyNotReady {
                resource: format!("file system {}", fs.file_system_id()),
                message: "it still has mount targets".into(),
            })
        }
        Err(e) => Err(WorkflowError::from_sdk("efs:DeleteFileSystem", e)),
    }
}

pub async fn security_groups(ec2: &aws_sdk_ec2::Client, owner: &Owner, scope: &Scope) -> Result<CleanupProgress> {
    let mut removed = Vec::new();
    let mut kept_groups = Vec::new();
    for group in efs::security_group::find_owned(ec2, owner).await? {
        let group_id = group.group_id().unwrap_or_default();
        if let Some(why) = scope.keeps(group.tags().iter().filter_map(|t| Some((t.key()?, t.value()?)))) {
            kept_groups.push(kept(format!("security group {group_id}"), why));
            continue;
        }
        match ec2.delete_security_group().group_id(group_id).send().await {
            Ok(_) => removed.push(group_id.to_string()),
            Err(e) if sdk_error_code(&e) == Some("InvalidGroup.NotFound") => {}
            // Mount-target network interfaces are released asynchronously after their deletion.
            Err(e) if sdk_error_code(&e) == Some("DependencyViolation") => {
                return Err(WorkflowError::DependencyNotReady {
                    resource: format!("security group {group_id}"),
                    message: e
                        .as_service_error()
                        .and_then(|s| s.meta().message())
                        .unwrap_or("still in use")
                        .to_string(),
                });
            }
            Err(e) => return Err(WorkflowError::from_sdk("ec2:DeleteSecurityGroup", e)),
        }
    }
    Ok(done(removed, kept_groups))
}
