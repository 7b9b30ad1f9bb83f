//! epic02: encrypted EFS file system, its security group, one mount target per private AZ, the
//! namespace's access point and the file system policy that makes it the only way in, and the
//! file system's CloudWatch alarms.

pub mod access_point;
pub mod alarms;
pub mod file_system;
pub mod kms;
pub mod mount_targets;
pub mod options;
pub mod policy;
pub mod replication;
pub mod security_group;

use crate::clients::AwsClients;
use crate::error::Result;
use crate::pacing::{self, Awaiting};
use crate::poll::Poll;
use crate::run::{Run, StepEvent};
use crate::settings::Settings;
use crate::steps::network;
use access_point::AccessPoint;
use kms::KmsKey;
use mount_targets::MountTarget;
use serde::{Deserialize, Serialize};

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
    /// The namespace's access point (once the file system is available): the Kubernetes steps
    /// mount through it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_point: Option<AccessPoint>,
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
/// The file system's few seconds are waited for in the function, the mount targets' minute or so
/// mostly in a Wait state ([`pacing`]).
pub async fn converge(clients: &AwsClients, settings: &Settings, run: &Run, attempt: u32) -> Result<Poll<EfsOutput>> {
    pacing::settle(settings, || converge_once(clients, run, attempt, settings)).await
}

async fn converge_once(
    clients: &AwsClients,
    run: &Run,
    attempt: u32,
    settings: &Settings,
) -> Result<(Poll<EfsOutput>, Option<Awaiting>)> {
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
    let (mount_targets, awaiting) = if fs_available {
        let (mount_targets, created) =
            mount_targets::ensure_mount_targets(&clients.efs, fs.file_system_id(), subnets, &security_group_id).await?;
        let awaiting = if created {
            Awaiting::started_now(pacing::MOUNT_TARGETS)
        } else {
            Awaiting::due(pacing::MOUNT_TARGETS)
        };
        (mount_targets, awaiting)
    } else {
        let waited = settings.time_scale.since_smithy(fs.creation_time());
        (
            vec![],
            Awaiting {
                expected: pacing::FILE_SYSTEM,
                waited,
            },
        )
    };
    let access_point = if fs_available {
        let ap = access_point::ensure_access_point(&clients.efs, run, fs.file_system_id()).await?;
        policy::converge(
            &clients.efs,
            &run.owner(),
            &fs,
            std::slice::from_ref(&ap.access_point_arn),
        )
        .await?;
        Some(ap)
    } else {
        None
    };
    let ready = fs_available
        && mount_targets::all_available(&mount_targets, subnets)?
        && access_point.as_ref().is_some_and(access_point::is_available);
    // Once, when everything is up: an alarm on a file system still being created watches nothing.
    let alarms = if ready {
        alarms::converge(&clients.cloudwatch, run, fs.file_system_id(), &settings.alarms).await?
    } else {
        vec![]
    };
    let available = mount_targets.iter().filter(|mt| mt.state == "available").count();
    let detail = format!(
        "file system {}: {available} of {} mount targets available; access point {}",
        fs.file_system_id(),
        subnets.len(),
        access_point
            .as_ref()
            .map_or("not yet created".to_string(), |ap| format!(
                "{} {}",
                ap.access_point_id, ap.state
            ))
    );
    let output = EfsOutput {
        file_system_id: fs.file_system_id().to_string(),
        file_system_arn: fs.file_system_arn().unwrap_or_default().to_string(),
        creation_token: fs.creation_token().to_string(),
        encrypted: fs.encrypted().unwrap_or(false),
        kms_key: key,
        security_group_id,
        mount_targets,
        access_point,
        replica,
        alarms,
    };
    Ok(if ready {
        (Poll::ready(attempt, detail, output), None)
    } else {
        (Poll::pending(attempt, 0, detail, output), Some(awaiting))
    })
}
