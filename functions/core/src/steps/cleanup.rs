//! epic06: deletes what the workflow created for one cluster namespace, in dependency order, one
//! action per resource kind (`kubernetes` first, then the AWS resources). Resources are found by their ownership tags, so cleanup
//! needs no state from the provisioning run: rollback, the TTL reaper and the console all start it
//! with just the cluster and namespace. Whatever lacks our tags is reported as kept, never deleted.

use crate::clients::AwsClients;
use crate::error::{Result, WorkflowError, sdk_error_code};
use crate::input::rules;
use crate::ownership::Owner;
use crate::settings::{AccessEntryMode, Settings};
use crate::steps::k8s::{self, Kube};
use crate::steps::{access, efs, fargate, prepare};
use aws_sdk_efs::types::LifeCycleState;
use aws_sdk_eks::types::{ClusterStatus, FargateProfileStatus};
use aws_sdk_kms::types::KeyState;
use serde::{Deserialize, Serialize};

/// Seconds between polls while EKS or EFS finish deleting.
const DELETE_POLL_SECONDS: u32 = 10;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CleanupAction {
    Kubernetes,
    FargateProfile,
    MountTargets,
    FileSystem,
    SecurityGroup,
    KmsKey,
    AccessEntry,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CleanupEvent {
    pub action: CleanupAction,
    pub cluster_name: String,
    pub namespace: String,
    #[serde(default)]
    pub attempt: u32,
}

/// Each action is called again until `done`; it deletes what is there and reports what is left.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CleanupProgress {
    pub done: bool,
    pub next_poll_seconds: u32,
    pub attempt: u32,
    /// What this call deleted (or started deleting).
    pub removed: Vec<String>,
    /// What was found but does not carry our ownership tags, so it stays.
    pub kept: Vec<String>,
}

pub async fn cleanup(clients: &AwsClients, settings: &Settings, event: CleanupEvent) -> Result<CleanupProgress> {
    rules::cluster_name("clusterName", &event.cluster_name)?;
    rules::namespace("namespace", &event.namespace)?;
    let owner = Owner::new(&event.cluster_name, &event.namespace);
    let mut progress = match event.action {
        CleanupAction::Kubernetes => kubernetes(clients, settings, &owner).await?,
        CleanupAction::FargateProfile => fargate_profile(&clients.eks, &owner).await?,
        CleanupAction::MountTargets => mount_targets(&clients.efs, &owner).await?,
        CleanupAction::FileSystem => file_system(&clients.efs, &owner).await?,
        CleanupAction::SecurityGroup => security_groups(&clients.ec2, &owner).await?,
        CleanupAction::KmsKey => kms_keys(&clients.kms, &owner, settings.kms_deletion_window_days).await?,
        // Skipped access entries (local stack only) were never created.
        CleanupAction::AccessEntry if settings.access_entry_mode == AccessEntryMode::Skip => done(vec![], vec![]),
        CleanupAction::AccessEntry => {
            let (removed, kept) = access::remove_access(&clients.eks, &clients.efs, &owner).await?;
            done(removed, kept)
        }
    };
    progress.attempt = event.attempt + 1;
    if !progress.done {
        progress.next_poll_seconds = settings.poll_seconds(DELETE_POLL_SECONDS);
    }
    tracing::info!(action = ?event.action, done = progress.done, removed = ?progress.removed, kept = ?progress.kept, "cleanup step");
    Ok(progress)
}

fn done(removed: Vec<String>, kept: Vec<String>) -> CleanupProgress {
    CleanupProgress {
        done: true,
        removed,
        kept,
        ..Default::default()
    }
}

fn pending(removed: Vec<String>) -> CleanupProgress {
    CleanupProgress {
        done: false,
        removed,
        ..Default::default()
    }
}

/// The namespace's Kubernetes objects. A cluster that is gone, or going, takes them with it.
async fn kubernetes(clients: &AwsClients, settings: &Settings, owner: &Owner) -> Result<CleanupProgress> {
    let cluster = match prepare::describe_cluster(&clients.eks, &owner.cluster).await {
        Err(WorkflowError::ClusterNotFound { .. }) => return Ok(done(vec![], vec![])),
        Ok(cluster) if cluster.status() == Some(&ClusterStatus::Deleting) => return Ok(done(vec![], vec![])),
        other => other?,
    };
    let kube = Kube::connect_to(clients, settings, &cluster).await?;
    let progress = k8s::cleanup::remove(&kube, owner).await?;
    Ok(CleanupProgress {
        done: progress.done,
        removed: progress.removed,
        kept: progress.kept,
        ..Default::default()
    })
}

async fn fargate_profile(eks: &aws_sdk_eks::Client, owner: &Owner) -> Result<CleanupProgress> {
    let name = owner.fargate_profile_name();
    let Some(profile) = fargate::describe_profile_of(eks, &owner.cluster, &name).await? else {
        return Ok(done(vec![], vec![]));
    };
    if !owner.owns(
        profile
            .tags()
            .into_iter()
            .flatten()
            .map(|(k, v)| (k.as_str(), v.as_str())),
    ) {
        return Ok(done(vec![], vec![name]));
    }
    if profile.status() == Some(&FargateProfileStatus::Deleting) {
        return Ok(pending(vec![]));
    }
    match eks
        .delete_fargate_profile()
        .cluster_name(&owner.cluster)
        .fargate_profile_name(&name)
        .send()
        .await
    {
        Ok(_) => Ok(pending(vec![name])),
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_resource_not_found_exception()) =>
        {
            Ok(done(vec![], vec![]))
        }
        // EKS deletes one profile of a cluster at a time.
        Err(e) if sdk_error_code(&e) == Some("ResourceInUseException") => Err(WorkflowError::FargateProfileBusy {
            cluster: owner.cluster.clone(),
            message: e
                .as_service_error()
                .and_then(|s| s.meta().message())
                .unwrap_or("resource in use")
                .to_string(),
        }),
        Err(e) => Err(WorkflowError::from_sdk("eks:DeleteFargateProfile", e)),
    }
}

/// Our file system, if any: `Err(kept)` when one answers to our token but is not tagged as ours.
async fn owned_file_system(
    efs: &aws_sdk_efs::Client,
    owner: &Owner,
) -> Result<Option<std::result::Result<aws_sdk_efs::types::FileSystemDescription, String>>> {
    let Some(fs) = efs::file_system::find_by_token(efs, &owner.creation_token()).await? else {
        return Ok(None);
    };
    if owner.owns(fs.tags().iter().map(|t| (t.key(), t.value()))) {
        Ok(Some(Ok(fs)))
    } else {
        Ok(Some(Err(fs.file_system_id().to_string())))
    }
}

async fn mount_targets(efs_client: &aws_sdk_efs::Client, owner: &Owner) -> Result<CleanupProgress> {
    let fs = match owned_file_system(efs_client, owner).await? {
        None => return Ok(done(vec![], vec![])),
        Some(Err(foreign)) => return Ok(done(vec![], vec![foreign])),
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

async fn file_system(efs_client: &aws_sdk_efs::Client, owner: &Owner) -> Result<CleanupProgress> {
    let fs = match owned_file_system(efs_client, owner).await? {
        None => return Ok(done(vec![], vec![])),
        Some(Err(foreign)) => return Ok(done(vec![], vec![foreign])),
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

async fn security_groups(ec2: &aws_sdk_ec2::Client, owner: &Owner) -> Result<CleanupProgress> {
    let mut removed = Vec::new();
    for group in efs::security_group::find_owned(ec2, owner).await? {
        let group_id = group.group_id().unwrap_or_default();
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
    Ok(done(removed, vec![]))
}

/// Schedules deletion of the keys the workflow created (found through their aliases and tags) and
/// deletes their aliases. Keys it only reused are never touched.
async fn kms_keys(kms: &aws_sdk_kms::Client, owner: &Owner, window_days: i32) -> Result<CleanupProgress> {
    let aliases = kms
        .list_aliases()
        .into_paginator()
        .items()
        .send()
        .collect::<std::result::Result<Vec<_>, _>>()
        .await
        .map_err(|e| WorkflowError::from_sdk("kms:ListAliases", e))?;
    let mut removed = Vec::new();
    for alias in aliases
        .iter()
        .filter(|a| !a.alias_name().unwrap_or("alias/aws/").starts_with("alias/aws/"))
    {
        let (Some(name), Some(key_id)) = (alias.alias_name(), alias.target_key_id()) else {
            continue;
        };
        if !efs::kms::is_owned(kms, owner, key_id).await? {
            continue;
        }
        // Key first, alias second: a retry after a failure in between still finds the key by its alias.
        let pending_deletion = efs::kms::describe(kms, key_id)
            .await?
            .is_none_or(|k| k.key_state() == Some(&KeyState::PendingDeletion));
        if !pending_deletion {
            efs::kms::schedule_deletion(kms, key_id, window_days).await?;
            removed.push(key_id.to_string());
        }
        kms.delete_alias()
            .alias_name(name)
            .send()
            .await
            .map_err(|e| WorkflowError::from_sdk("kms:DeleteAlias", e))?;
        removed.push(name.to_string());
    }
    Ok(done(removed, vec![]))
}
