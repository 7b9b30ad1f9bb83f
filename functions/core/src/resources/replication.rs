//! `fileSystem.replication`: the file system replicated to a new file system EFS creates in the
//! requested region. The workflow's own file system keeps replication overwrite protection on, so
//! nothing can replicate into it; a replication to another region than the input's is a
//! `FileSystemConflict` (EFS cannot move a replica), decided before anything is changed. The
//! configuration is recorded in the ledger before it is made; cleanup deletes a recorded one before
//! the file system and leaves the replica, which EFS made without our tags and which is the copy of
//! the data a person may still need.

use std::collections::BTreeMap;

use super::{CleanupScope, Kind, Recorder, Removal, kept};
use crate::aws;
use crate::error::{Result, WorkflowError};
use crate::input::replication::Replication;
use crate::ledger::{Ledger, NamespaceView};
use crate::ownership::Owner;
use aws_sdk_efs::types::{
    FileSystemDescription, ReplicationConfigurationDescription, ReplicationOverwriteProtection, ReplicationStatus,
};
use serde::{Deserialize, Serialize};

/// The replica, as the efs step reports it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Replica {
    pub region: String,
    /// Empty until EFS has created the destination file system.
    pub file_system_id: String,
    /// `ENABLING`, `ENABLED`, `PAUSED`, ... as EFS reports it.
    pub status: String,
}

/// What the file system's replication is now.
pub async fn find(
    efs: &aws_sdk_efs::Client,
    fs: &FileSystemDescription,
) -> Result<Option<ReplicationConfigurationDescription>> {
    aws::efs::replication(efs, fs.file_system_id()).await
}

/// Whether the file system can replicate as `wanted` asks: the replica of another file system (so
/// read-only), or replicating to another region, is a `FileSystemConflict`. Changes nothing.
pub fn decide(
    fs: &FileSystemDescription,
    existing: Option<&ReplicationConfigurationDescription>,
    wanted: Option<&Replication>,
) -> Result<()> {
    let id = fs.file_system_id();
    let conflict = |difference: String| WorkflowError::FileSystemConflict {
        file_system_id: id.to_string(),
        creation_token: fs.creation_token().to_string(),
        difference,
    };
    let Some(wanted) = wanted else { return Ok(()) };
    if let Some(config) = existing
        && config.source_file_system_id() != id
    {
        return Err(conflict(format!(
            "it is the replica of {} in {}, so it is read-only",
            config.source_file_system_id(),
            config.source_file_system_region()
        )));
    }
    match existing.and_then(replica) {
        Some(replica) if replica.region != wanted.region => Err(conflict(format!(
            "it replicates to {} ({}), the input asks for {}; delete its replication configuration first (EFS cannot move a replica)",
            replica.region, replica.file_system_id, wanted.region
        ))),
        _ => Ok(()),
    }
}

/// Makes the file system (ours, `available`) replicate as `wanted` asks, recording the
/// configuration it creates. Without `wanted` an existing replication is left alone: removing it
/// would cut a disaster-recovery copy off.
pub async fn converge(
    efs: &aws_sdk_efs::Client,
    recorder: Recorder<'_>,
    fs: &FileSystemDescription,
    existing: Option<&ReplicationConfigurationDescription>,
    wanted: Option<&Replication>,
) -> Result<Option<Replica>> {
    let id = fs.file_system_id();
    let protection = fs
        .file_system_protection()
        .and_then(|p| p.replication_overwrite_protection());
    if protection == Some(&ReplicationOverwriteProtection::Disabled) {
        aws::efs::protect_from_overwrite(efs, id).await?;
        tracing::info!(file_system = id, "replication overwrite protection turned back on");
    }
    let Some(wanted) = wanted else {
        return Ok(None);
    };
    if let Some(replica) = existing.and_then(replica) {
        return Ok(Some(replica));
    }
    let place = recorder.namespace();
    recorder.intend(place, Kind::Replication, &wanted.region).await?;
    aws::efs::create_replication(efs, id, &wanted.region).await?;
    recorder
        .settle(place, Kind::Replication, &wanted.region, id, BTreeMap::new())
        .await?;
    tracing::info!(file_system = id, region = wanted.region, "replication configured");
    Ok(aws::efs::replication(efs, id)
        .await?
        .as_ref()
        .and_then(replica)
        .or_else(|| {
            Some(Replica {
                region: wanted.region.clone(),
                file_system_id: String::new(),
                status: "ENABLING".into(),
            })
        }))
}

/// Why a replica stays: EFS created it, not the workflow, and it is the copy of the data a person
/// may still need.
const REPLICA_REASON: &str = "a replica EFS created, which the workflow never deletes; once the replication is gone it is a writable copy: delete it by hand when the data is no longer needed";

/// Deletes the recorded replication configuration of the namespace's file system (in a rollback:
/// its run's), unless the file system is retained; polls until it is gone. The replica stays and
/// is named among what was removed, so the summary keeps it.
pub async fn remove(
    efs: &aws_sdk_efs::Client,
    ledger: &Ledger,
    owner: &Owner,
    view: &NamespaceView,
    scope: &CleanupScope,
) -> Result<Removal> {
    let place = owner.place();
    let mut removal = Removal::done();
    for record in view.of_kind(Kind::Replication) {
        let what = format!("replication to {}", record.key);
        if let Some(why) = scope.keeps(record) {
            removal = removal.kept(what, why);
            continue;
        }
        if super::file_system::retained(view, owner).is_some() {
            removal = removal.kept(what, super::file_system::retained_reason());
            continue;
        }
        let Some(source) = record.resource_id.clone().filter(|_| record.is_created()) else {
            ledger.forget(place, Kind::Replication, &record.key).await?;
            continue;
        };
        let Some(config) = aws::efs::replication(efs, &source).await? else {
            ledger.forget(place, Kind::Replication, &record.key).await?;
            continue;
        };
        removal.done = false;
        let deleting = config
            .destinations()
            .iter()
            .all(|d| *d.status() == ReplicationStatus::Deleting);
        if deleting || !aws::efs::delete_replication(efs, &source).await? {
            continue;
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
        removal = removal.removed(format!(
            "replication configuration of {source} (kept: {})",
            replicas.join("; ")
        ));
    }
    Ok(removal)
}

fn replica(config: &aws_sdk_efs::types::ReplicationConfigurationDescription) -> Option<Replica> {
    config.destinations().first().map(|destination| Replica {
        region: destination.region().to_string(),
        file_system_id: destination.file_system_id().to_string(),
        status: destination.status().as_str().to_string(),
    })
}
