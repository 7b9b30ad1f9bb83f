//! One mount target per availability zone of the cluster's private subnets.

use crate::aws;
use crate::error::{Result, WorkflowError};
use crate::run::Subnet;
use aws_sdk_efs::types::{LifeCycleState, MountTargetDescription};
use serde::{Deserialize, Serialize};

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

/// Creates the missing mount targets (the file system must be `available`) and returns them all,
/// and whether this call created any.
pub async fn ensure_mount_targets(
    efs: &aws_sdk_efs::Client,
    file_system_id: &str,
    subnets: &[Subnet],
    security_group_id: &str,
) -> Result<(Vec<MountTarget>, bool)> {
    let existing = aws::efs::mount_targets(efs, file_system_id).await?;
    let has_zone = |zone: &str| existing.iter().any(|mt| mt.availability_zone_name() == Some(zone));
    let mut created_any = false;
    for subnet in subnets.iter().filter(|s| !has_zone(&s.availability_zone)) {
        // `false`: the zone got one meanwhile (a concurrent retry), adopted below.
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
