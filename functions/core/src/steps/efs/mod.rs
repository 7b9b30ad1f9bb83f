//! epic02: encrypted EFS file system, its security group and one mount target per private AZ.

pub mod file_system;
pub mod kms;
pub mod mount_targets;
pub mod security_group;

use crate::clients::AwsClients;
use crate::error::Result;
use crate::run::{Poll, Run, StepEvent};
use crate::settings::Settings;
use kms::KmsKey;
use mount_targets::MountTarget;
use serde::{Deserialize, Serialize};

/// Seconds between polls: mount targets take a minute or two to become available.
pub const MOUNT_TARGET_POLL_SECONDS: u32 = 20;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum EfsAction {
    Create,
    Status,
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
    pub ready: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum EfsStepOutput {
    Storage(Box<EfsOutput>),
    Poll(Poll),
}

/// The `efs` function: `create` finds or creates everything, `status` converges and polls.
pub async fn handle(clients: &AwsClients, settings: &Settings, event: StepEvent<EfsAction>) -> Result<EfsStepOutput> {
    event.run.validate()?;
    match event.action {
        EfsAction::Create => ensure_storage(clients, &event.run)
            .await
            .map(|o| EfsStepOutput::Storage(Box::new(o))),
        EfsAction::Status => storage_status(clients, settings, &event.run, event.attempt)
            .await
            .map(EfsStepOutput::Poll),
    }
}

/// Finds or creates everything; mount targets are created as soon as the file system is available
/// (here, or by a later `status` call).
pub async fn ensure_storage(clients: &AwsClients, run: &Run) -> Result<EfsOutput> {
    let key = kms::ensure_key(&clients.kms, run).await?;
    let fs = file_system::ensure_file_system(&clients.efs, run, key.as_ref()).await?;
    let security_group_id = security_group::ensure_security_group(&clients.ec2, run).await?;
    let subnets = &run.network.mount_target_subnets;
    let mount_targets = if file_system::is_available(&fs)? {
        mount_targets::ensure_mount_targets(&clients.efs, fs.file_system_id(), subnets, &security_group_id).await?
    } else {
        vec![]
    };
    let ready = file_system::is_available(&fs)? && mount_targets::all_available(&mount_targets, subnets)?;
    Ok(EfsOutput {
        file_system_id: fs.file_system_id().to_string(),
        file_system_arn: fs.file_system_arn().unwrap_or_default().to_string(),
        creation_token: fs.creation_token().to_string(),
        encrypted: fs.encrypted().unwrap_or(false),
        kms_key: key,
        security_group_id,
        mount_targets,
        ready,
    })
}

/// Ready when the file system and a mount target in every private AZ are `available`. Converges:
/// missing mount targets are created once the file system is available.
pub async fn storage_status(clients: &AwsClients, settings: &Settings, run: &Run, attempt: u32) -> Result<Poll> {
    let output = ensure_storage(clients, run).await?;
    let available = output.mount_targets.iter().filter(|mt| mt.state == "available").count();
    Ok(Poll {
        ready: output.ready,
        next_poll_seconds: if output.ready {
            0
        } else {
            settings.poll_seconds(MOUNT_TARGET_POLL_SECONDS)
        },
        attempt: attempt + 1,
        detail: format!(
            "file system {}: {available} of {} mount targets available",
            output.file_system_id,
            run.network.mount_target_subnets.len()
        ),
    })
}
