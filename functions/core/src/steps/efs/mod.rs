//! epic02: encrypted EFS file system, its security group, one mount target per private AZ and the
//! file system's CloudWatch alarms.

pub mod alarms;
pub mod file_system;
pub mod kms;
pub mod mount_targets;
pub mod options;
pub mod replication;
pub mod security_group;

use crate::clients::AwsClients;
use crate::error::Result;
use crate::poll::Poll;
use crate::run::{Run, StepEvent};
use crate::settings::Settings;
use crate::steps::network;
use kms::KmsKey;
use mount_targets::MountTarget;
use serde::{Deserialize, Serialize};

/// Seconds between polls: mount targets take a minute or two to become available.
pub const MOUNT_TARGET_POLL_SECONDS: u32 = 20;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum EfsAction {
    /// Finds or creates everything, and polls until the mount targets are available.
    Converge,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EfsOutput {
    pub file_system_id: String,
    pub file_system_arn: String,
    pub creation_token: String,
    pub encrypted: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kms_key: Option<KmsKey>,
    pub security_group_id: String,
    pub mount_targets: Vec<MountTarget>,
    /// The replica `fileSystem.replication` asked for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replica: Option<replication::Replica>,
    /// The file system's CloudWatch alarms, once it is ready.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub alarms: Vec<String>,
}

/// The `efs` function.
pub async fn handle(clients: &AwsClients, settings: &Settings, event: StepEvent<EfsAction>) -> Result<Poll<EfsOutput>> {
    event.run.validate()?;
    match event.action {
        EfsAction::Converge => converge(clients, settings, &event.run, event.attempt).await,
    }
}

/// Finds or creates everything (mount targets as soon as the file system is available, here or in
/// a later call); ready when the file system and a mount target in every private AZ are `available`.
pub async fn converge(clients: &AwsClients, settings: &Settings, run: &Run, attempt: u32) -> Result<Poll<EfsOutput>> {
    // The security group opens NFS to these subnets: never to whatever the input says.
    network::verified(clients, run).await?;
    let key = kms::ensure_key(&clients.kms, run).await?;
    let fs = file_system::ensure_file_system(&clients.efs, run, key.as_ref()).await?;
    let security_group_id = security_group::ensure_security_group(&clients.ec2, run).await?;
    let subnets = &run.network.mount_target_subnets;
    let mut fs_available = file_system::is_available(&fs)?;
    if fs_available && options::converge(&clients.efs, &fs, &run.request.file_system).await? {
        fs_available = false;
    }
    let replica = if fs_available {
        replication::converge(&clients.efs, &fs, run.request.file_system.replication.as_ref()).await?
    } else {
        None
    };
    let mount_targets = if fs_available {
        mount_targets::ensure_mount_targets(&clients.efs, fs.file_system_id(), subnets, &security_group_id).await?
    } else {
        vec![]
    };
    let ready = fs_available && mount_targets::all_available(&mount_targets, subnets)?;
    // Once, when everything is up: an alarm on a file system still being created watches nothing.
    let alarms = if ready {
        alarms::converge(&clients.cloudwatch, run, fs.file_system_id(), &settings.alarms).await?
    } else {
        vec![]
    };
    let available = mount_targets.iter().filter(|mt| mt.state == "available").count();
    let detail = format!(
        "file system {}: {available} of {} mount targets available",
        fs.file_system_id(),
        subnets.len()
    );
    let output = EfsOutput {
        file_system_id: fs.file_system_id().to_string(),
        file_system_arn: fs.file_system_arn().unwrap_or_default().to_string(),
        creation_token: fs.creation_token().to_string(),
        encrypted: fs.encrypted().unwrap_or(false),
        kms_key: key,
        security_group_id,
        mount_targets,
        replica,
        alarms,
    };
    Ok(if ready {
        Poll::ready(attempt, detail, output)
    } else {
        Poll::pending(
            attempt,
            settings.poll_seconds(MOUNT_TARGET_POLL_SECONDS),
            detail,
            output,
        )
    })
}
