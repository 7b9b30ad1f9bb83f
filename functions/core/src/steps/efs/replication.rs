//! `fileSystem.replication`: the file system replicated to a new file system EFS creates in the
//! requested region. The workflow's own file system keeps replication overwrite protection on, so
//! nothing can replicate into it; a replication to another region than the input's is a
//! `FileSystemConflict` (EFS cannot move a replica). Cleanup deletes the configuration before the
//! file system and leaves the replica (`steps::cleanup::efs`).

use crate::aws;
use crate::error::{Result, WorkflowError};
use crate::input::replication::Replication;
use crate::ownership::REPLICATION_KEY;
use aws_sdk_efs::types::{FileSystemDescription, ReplicationOverwriteProtection};
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

/// Makes the file system (ours, `available`) replicate as `wanted` asks. Without `wanted` nothing
/// is looked up (no call per poll), and an existing replication is left alone: the workflow does
/// not know who made it, and removing it would cut a disaster-recovery copy off.
pub async fn converge(
    efs: &aws_sdk_efs::Client,
    fs: &FileSystemDescription,
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
    let existing = aws::efs::replication(efs, id).await?;
    let conflict = |difference: String| WorkflowError::FileSystemConflict {
        file_system_id: id.to_string(),
        creation_token: fs.creation_token().to_string(),
        difference,
    };
    if let Some(config) = &existing
        && config.source_file_system_id() != id
    {
        return Err(conflict(format!(
            "it is the replica of {} in {}, so it is read-only",
            config.source_file_system_id(),
            config.source_file_system_region()
        )));
    }
    match existing.as_ref().and_then(replica) {
        Some(replica) if replica.region == wanted.region => Ok(Some(replica)),
        Some(replica) => Err(conflict(format!(
            "it replicates to {} ({}), the input asks for {}; delete its replication configuration first (EFS cannot move a replica)",
            replica.region, replica.file_system_id, wanted.region
        ))),
        None => {
            // Tagged first: a replication the tag does not announce would block cleanup's delete.
            aws::efs::tag_file_system(efs, id, REPLICATION_KEY, &wanted.region).await?;
            aws::efs::create_replication(efs, id, &wanted.region).await?;
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
    }
}

fn replica(config: &aws_sdk_efs::types::ReplicationConfigurationDescription) -> Option<Replica> {
    config.destinations().first().map(|destination| Replica {
        region: destination.region().to_string(),
        file_system_id: destination.file_system_id().to_string(),
        status: destination.status().as_str().to_string(),
    })
}
