//! The `mount-targets`, `file-system` and `security-group` cleanup actions. A file system created
//! with `fileSystem.retention: retain` stays with its mount targets, security group, replication
//! and access points, reported as kept: its retention tag is the only record of that choice cleanup
//! has. A deleted file system's replication configuration goes first (its replica stays), then the
//! namespace's access points, then the file system.

use super::{CleanupProgress, done, pending};
use crate::aws;
use crate::error::Result;
use crate::ownership::{Owner, REPLICATION_KEY, RETENTION_KEY, Scope, kept, retained};
use crate::steps::efs::security_group;
use aws_sdk_efs::types::{FileSystemDescription, LifeCycleState, ReplicationStatus};

/// The file system that answers to the namespace's creation token, if this cleanup may delete it;
/// `Err(kept)` with the reason when it stays.
async fn deletable_file_system(
    efs_client: &aws_sdk_efs::Client,
    owner: &Owner,
    scope: &Scope,
) -> Result<Option<std::result::Result<FileSystemDescription, String>>> {
    let Some(fs) = aws::efs::file_system_by_token(efs_client, &owner.creation_token()).await? else {
        return Ok(None);
    };
    let tags = || fs.tags().iter().map(|t| (t.key(), t.value()));
    let why_kept = scope
        .why_kept(owner, tags())
        .or_else(|| retained(tags()).then(retained_reason));
    Ok(Some(match why_kept {
        None => Ok(fs),
        Some(why) => Err(kept(format!("file system {}", fs.file_system_id()), why)),
    }))
}

/// Why a replica stays: EFS created it, not the workflow (it carries none of our tags), and it is
/// the copy of the data a person may still need.
const REPLICA_REASON: &str = "a replica EFS created, which the workflow never deletes; once the replication is gone it is a writable copy: delete it by hand when the data is no longer needed";

/// Why a retained file system stays. IAM lets the workflow tag a file system only with its expiry,
/// so the retention tag set at creation is what marks it; this report is the rest.
fn retained_reason() -> String {
    format!(
        "retained: created with fileSystem.retention retain (tag {RETENTION_KEY}=retain); delete it by hand, or change that tag to delete and run cleanup again"
    )
}

/// The mount targets of our file system. They carry no tags of their own: in a rollback they go
/// with the file system only when that run created it.
pub async fn mount_targets(efs_client: &aws_sdk_efs::Client, owner: &Owner, scope: &Scope) -> Result<CleanupProgress> {
    let fs = match deletable_file_system(efs_client, owner, scope).await? {
        None => return Ok(done(vec![], vec![])),
        Some(Err(kept)) => return Ok(done(vec![], vec![format!("mount targets of {kept}")])),
        Some(Ok(fs)) => fs,
    };
    let targets = aws::efs::mount_targets(efs_client, fs.file_system_id()).await?;
    if targets.is_empty() {
        return Ok(done(vec![], vec![]));
    }
    let mut removed = Vec::new();
    for mt in targets
        .iter()
        .filter(|mt| *mt.life_cycle_state() != LifeCycleState::Deleting)
    {
        if aws::efs::delete_mount_target(efs_client, mt.mount_target_id()).await? {
            removed.push(mt.mount_target_id().to_string());
        }
    }
    Ok(pending(removed))
}

pub async fn file_system(efs_client: &aws_sdk_efs::Client, owner: &Owner, scope: &Scope) -> Result<CleanupProgress> {
    let (mut removed, mut kept_points) = access_points(efs_client, owner, scope).await?;
    let fs = match deletable_file_system(efs_client, owner, scope).await? {
        None => return Ok(done(removed, kept_points)),
        Some(Err(kept)) => {
            kept_points.push(kept);
            return Ok(done(removed, kept_points));
        }
        Some(Ok(fs)) => fs,
    };
    if *fs.life_cycle_state() == LifeCycleState::Deleting {
        return Ok(pending(removed));
    }
    // EFS refuses to delete a file system in a replication configuration: the configuration goes
    // first (its deletion takes a while; the next poll looks again). The replica stays.
    // Only `removed` survives every poll into the summary, so the replica is named there.
    // Only where the workflow made one (its tag): moto, like a file system never replicated, has
    // nothing to describe, and a replication someone else made fails the delete with EFS's reason.
    let replicated = fs.tags().iter().any(|t| t.key() == REPLICATION_KEY);
    let configuration = if replicated {
        aws::efs::replication(efs_client, fs.file_system_id()).await?
    } else {
        None
    };
    if let Some(config) = configuration {
        let deleting = config
            .destinations()
            .iter()
            .all(|d| *d.status() == ReplicationStatus::Deleting);
        if deleting || !aws::efs::delete_replication(efs_client, fs.file_system_id()).await? {
            return Ok(pending(vec![]));
        }
        let replicas: Vec<String> = config
            .destinations()
            .iter()
            .map(|d| {
                kept(
                    format!("replica {} in {}", d.file_system_id(), d.region()),
                    REPLICA_REASON,
                )
            })
            .collect();
        return Ok(pending(vec![format!(
            "replication configuration of {} (kept: {})",
            fs.file_system_id(),
            replicas.join("; ")
        )]));
    }
    // `DependencyNotReady` (retried) while its mount targets are still being deleted.
    if aws::efs::delete_file_system(efs_client, fs.file_system_id()).await? {
        removed.push(fs.file_system_id().to_string());
        Ok(pending(removed))
    } else {
        Ok(done(removed, vec![]))
    }
}

/// Deletes this namespace's access points on its file system (in a rollback, only the run's own),
/// unless the file system is retained; returns (removed, kept with the reason).
async fn access_points(
    efs_client: &aws_sdk_efs::Client,
    owner: &Owner,
    scope: &Scope,
) -> Result<(Vec<String>, Vec<String>)> {
    let Some(fs) = aws::efs::file_system_by_token(efs_client, &owner.creation_token()).await? else {
        return Ok((vec![], vec![]));
    };
    let fs_retained = retained(fs.tags().iter().map(|t| (t.key(), t.value())));
    let (mut removed, mut kept_points) = (Vec::new(), Vec::new());
    for ap in aws::efs::access_points(efs_client, fs.file_system_id()).await? {
        let tags = || ap.tags().iter().map(|t| (t.key(), t.value()));
        if !owner.owns(tags()) {
            continue; // someone else's door to our file system: not ours to report or delete
        }
        let id = ap.access_point_id().unwrap_or_default();
        let why = scope
            .keeps(tags())
            .or_else(|| fs_retained.then(|| format!("on retained file system {}", fs.file_system_id())));
        if let Some(why) = why {
            kept_points.push(kept(format!("access point {id}"), why));
        } else if aws::efs::delete_access_point(efs_client, id).await? {
            removed.push(id.to_string());
        }
    }
    Ok((removed, kept_points))
}

/// Our NFS security groups; they stay while a retained file system's mount targets use them.
pub async fn security_groups(
    ec2: &aws_sdk_ec2::Client,
    efs_client: &aws_sdk_efs::Client,
    owner: &Owner,
    scope: &Scope,
) -> Result<CleanupProgress> {
    let retained_by = aws::efs::file_system_by_token(efs_client, &owner.creation_token())
        .await?
        .filter(|fs| {
            let tags = || fs.tags().iter().map(|t| (t.key(), t.value()));
            owner.owns(tags()) && retained(tags())
        })
        .map(|fs| fs.file_system_id().to_string());
    let mut removed = Vec::new();
    let mut kept_groups = Vec::new();
    for group in security_group::find_owned(ec2, owner).await? {
        let group_id = group.group_id().unwrap_or_default();
        let why = scope
            .keeps(group.tags().iter().filter_map(|t| Some((t.key()?, t.value()?))))
            .or_else(|| {
                retained_by
                    .as_ref()
                    .map(|fs| format!("used by retained file system {fs}"))
            });
        if let Some(why) = why {
            kept_groups.push(kept(format!("security group {group_id}"), why));
            continue;
        }
        if aws::ec2::delete_security_group(ec2, group_id).await? {
            removed.push(group_id.to_string());
        }
    }
    Ok(done(removed, kept_groups))
}
