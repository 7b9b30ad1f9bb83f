//! epic02: encrypted EFS file system, its security group, one mount target per private AZ, the
//! namespace's access point and the file system policy that makes it the only way in, and the
//! file system's CloudWatch alarms: each kind in its own module under `resources`, every decision
//! made before anything is changed (`decide`), everything created recorded in the ledger.

pub mod decide;

use crate::clients::AwsClients;
use crate::error::Result;
use crate::ledger::Ledger;
use crate::pacing::{self, Awaiting};
use crate::poll::Poll;
use crate::resources::access_point::{self, AccessPoint};
use crate::resources::file_system::{self, options, policy};
use crate::resources::kms_key::{self, KmsKey};
use crate::resources::mount_targets::{self, MountTarget};
use crate::resources::{Recorder, alarms, replication, security_group};
use crate::run::{Run, StepEvent};
use crate::settings::Settings;
use crate::steps::network;
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
    let ledger = Ledger::of(&clients.dynamodb, settings)?;
    let (owner, creator) = (run.owner(), run.creator());
    let recorder = Recorder {
        ledger: &ledger,
        owner: &owner,
        creator: &creator,
    };
    let view = ledger.namespace(&owner.cluster, &owner.namespace).await?;
    // Every decision first: a conflict changes nothing.
    let plan = decide::file_system_plan(clients, &ledger, &view, &owner, &run.request).await?;
    let group = decide::security_group_plan(&clients.ec2, &view, &owner, &run.network.vpc_id).await?;
    let key = match plan.key {
        Some((decision, alias)) => {
            Some(kms_key::apply(&clients.kms, recorder, run.tags(&alias), decision, &alias).await?)
        }
        None => None,
    };
    let name = format!(
        "efs-fargate-workflow-{}-{}",
        run.request.cluster_name, run.request.namespace
    );
    let fs = file_system::apply(
        &clients.efs,
        recorder,
        &run.request,
        &plan.found,
        plan.file_system,
        run.tags(&name),
        key.as_ref().map(|k| k.key_arn.as_str()),
    )
    .await?;
    let security_group_id = security_group::apply(
        &clients.ec2,
        recorder,
        group,
        &run.network.vpc_id,
        &run.network.private_subnets,
        run.tags(&owner.security_group_name()),
    )
    .await?;
    let subnets = &run.network.mount_target_subnets;
    let mut fs_available = file_system::is_available(&fs)?;
    if fs_available && options::converge(&clients.efs, &fs, &run.request.file_system).await? {
        fs_available = false;
    }
    let replica = if fs_available {
        replication::converge(
            &clients.efs,
            recorder,
            &fs,
            plan.replication.as_ref(),
            run.request.file_system.replication.as_ref(),
        )
        .await?
    } else {
        None
    };
    let (mount_targets, awaiting) = if fs_available {
        let (mount_targets, created) =
            mount_targets::ensure(&clients.efs, recorder, fs.file_system_id(), subnets, &security_group_id).await?;
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
        let ap = access_point::apply(
            &clients.efs,
            recorder,
            plan.access_point,
            fs.file_system_id(),
            run.request.posix_user,
            run.tags(&name),
        )
        .await?;
        policy::converge(&clients.efs, &fs, std::slice::from_ref(&ap.access_point_arn)).await?;
        Some(ap)
    } else {
        None
    };
    let ready = fs_available
        && mount_targets::all_available(&mount_targets, subnets)?
        && access_point.as_ref().is_some_and(access_point::is_available);
    // Once, when everything is up: an alarm on a file system still being created watches nothing.
    let alarms = if ready {
        alarms::converge(
            &clients.cloudwatch,
            recorder,
            &view,
            fs.file_system_id(),
            &run.request.file_system,
            &settings.alarms,
            run.tags(&name),
        )
        .await?
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
