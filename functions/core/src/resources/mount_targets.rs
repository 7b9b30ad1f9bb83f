//! One mount target per availability zone of the cluster's private subnets, each recorded in the
//! namespace's part of the ledger under its zone. They carry no tags of their own: the ledger says
//! which run made which, so a rollback removes exactly the mount targets its run added.

use std::collections::BTreeMap;

use aws_sdk_efs::types::{LifeCycleState, MountTargetDescription};
use serde::{Deserialize, Serialize};

use super::{CleanupScope, Kind, Recorder, Removal};
use crate::aws;
use crate::error::{Result, WorkflowError};
use crate::ledger::{Ledger, NamespaceView};
use crate::ownership::Owner;
use crate::run::Subnet;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MountTarget {
    pub mount_target_id: String,
    pub subnet_id: String,
    pub availability_zone: String,
    pub state: String,
}

impl From<&MountTargetDescription> for MountTarget {
    fn from(mt: &MountTargetDescription) -> Self {
        Self {
            mount_target_id: mt.mount_target_id().to_string(),
            subnet_id: mt.subnet_id().to_string(),
            availability_zone: mt.availability_zone_name().unwrap_or_default().to_string(),
            state: mt.life_cycle_state().as_str().to_string(),
        }
    }
}

/// Creates the missing mount targets (the file system must be `available`), each recorded before
/// its create call and confirmed after, and returns them all, and whether this call created any.
pub async fn ensure(
    efs: &aws_sdk_efs::Client,
    recorder: Recorder<'_>,
    file_system_id: &str,
    subnets: &[Subnet],
    security_group_id: &str,
) -> Result<(Vec<MountTarget>, bool)> {
    let place = recorder.namespace();
    let existing = aws::efs::mount_targets(efs, file_system_id).await?;
    let in_zone = |all: &[MountTargetDescription], zone: &str| {
        all.iter()
            .find(|mt| mt.availability_zone_name() == Some(zone))
            .map(|mt| mt.mount_target_id().to_string())
    };
    let mut created_any = false;
    for subnet in subnets
        .iter()
        .filter(|s| in_zone(&existing, &s.availability_zone).is_none())
    {
        recorder
            .intend(place, Kind::MountTarget, &subnet.availability_zone)
            .await?;
        // `false`: the zone got one meanwhile (a concurrent retry): recorded below.
        if aws::efs::create_mount_target(efs, file_system_id, &subnet.subnet_id, security_group_id).await? {
            tracing::info!(zone = %subnet.availability_zone, subnet = %subnet.subnet_id, "mount target created");
        }
        created_any = true;
    }
    let all = if created_any {
        aws::efs::mount_targets(efs, file_system_id).await?
    } else {
        existing
    };
    // Every wanted zone's mount target on our file system is confirmed (a no-op when it is already).
    for subnet in subnets {
        if let Some(id) = in_zone(&all, &subnet.availability_zone)
            && recorder
                .ledger
                .get(place, Kind::MountTarget, &subnet.availability_zone)
                .await?
                .is_some()
        {
            recorder
                .settle(
                    place,
                    Kind::MountTarget,
                    &subnet.availability_zone,
                    &id,
                    BTreeMap::new(),
                )
                .await?;
        }
    }
    Ok((all.iter().map(MountTarget::from).collect(), created_any))
}

/// `Ok(true)` when every wanted zone has an available mount target; an error for a broken one.
pub fn all_available(mount_targets: &[MountTarget], subnets: &[Subnet]) -> Result<bool> {
    let mut ready = true;
    for subnet in subnets {
        match mount_targets
            .iter()
            .find(|mt| mt.availability_zone == subnet.availability_zone)
        {
            None => ready = false,
            Some(mt) => match LifeCycleState::from(mt.state.as_str()) {
                LifeCycleState::Available => {}
                LifeCycleState::Creating | LifeCycleState::Updating => ready = false,
                other => {
                    return Err(WorkflowError::FileSystemFailed {
                        resource: format!("mount target {} in {}", mt.mount_target_id, mt.availability_zone),
                        state: other.as_str().to_string(),
                    });
                }
            },
        }
    }
    Ok(ready)
}

/// Deletes the recorded mount targets this cleanup may (in a rollback: its run's), unless the file
/// system is retained; polls until they are gone, then forgets them.
pub async fn remove(
    efs: &aws_sdk_efs::Client,
    ledger: &Ledger,
    owner: &Owner,
    view: &NamespaceView,
    scope: &CleanupScope,
) -> Result<Removal> {
    let place = owner.place();
    let records: Vec<_> = view.of_kind(Kind::MountTarget).collect();
    if records.is_empty() {
        return Ok(Removal::done());
    }
    if let Some(fs) = super::file_system::retained(view, owner) {
        let fs = fs.resource_id.as_deref().unwrap_or(&fs.key);
        return Ok(Removal::done().kept(
            format!("mount targets of file system {fs}"),
            super::file_system::retained_reason(),
        ));
    }
    // Their file system's id (an intent's too): an intent's mount target is found by its zone.
    let on_file_system = match view.find(Kind::FileSystem, &owner.creation_token()) {
        Some(fs) => match super::file_system::recorded_id(efs, fs).await? {
            Some(id) => aws::efs::mount_targets(efs, &id).await?,
            None => vec![],
        },
        None => vec![],
    };
    let mut removal = Removal::done();
    for record in records {
        let what = format!("mount target in {}", record.key);
        if let Some(why) = scope.keeps(record) {
            removal = removal.kept(what, why);
            continue;
        }
        let found = on_file_system
            .iter()
            .find(|mt| match (&record.resource_id, record.is_created()) {
                (Some(id), true) => mt.mount_target_id() == id,
                _ => mt.availability_zone_name() == Some(record.key.as_str()),
            });
        let Some(mt) = found else {
            ledger.forget(place, Kind::MountTarget, &record.key).await?;
            continue;
        };
        removal.done = false;
        if *mt.life_cycle_state() != LifeCycleState::Deleting
            && aws::efs::delete_mount_target(efs, mt.mount_target_id()).await?
        {
            removal = removal.removed(mt.mount_target_id().to_string());
        }
    }
    Ok(removal)
}
