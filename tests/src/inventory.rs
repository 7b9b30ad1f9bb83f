//! `inventory`: a comparable snapshot of everything the workflow may create or delete, so a test can
//! `assert_eq!(before, after)` to prove that nothing was created (or removed).

use std::collections::BTreeMap;

use aws_sdk_kms::types::{KeyManagerType, KeyState};
use efs_fargate_core::clients::AwsClients;

use crate::check::OrPanic;

mod alarms;
mod roles;
pub use alarms::AlarmInfo;
pub use roles::RoleInfo;

pub type Tags = BTreeMap<String, String>;

/// Every list is sorted, so equal states compare equal.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Inventory {
    /// All EFS file systems, by id.
    pub file_systems: Vec<FileSystemInfo>,
    /// All security groups not named `default`, in any VPC (the seeded VPC and moto's default VPC
    /// hold nothing else), by id.
    pub security_groups: Vec<SecurityGroupInfo>,
    /// Customer-managed KMS keys in state `Enabled` (moto's pre-created AWS-managed keys and keys
    /// pending deletion are left out), by id.
    pub kms_keys: Vec<KmsKeyInfo>,
    /// KMS aliases except `alias/aws/*`, by name.
    pub kms_aliases: Vec<KmsAliasInfo>,
    /// The cluster's Fargate profiles, by name (empty when the cluster does not exist).
    pub fargate_profiles: Vec<FargateProfileInfo>,
    /// All CloudWatch metric alarms, by name.
    pub alarms: Vec<AlarmInfo>,
    /// The IAM roles under the workflow's path (`/efs-fargate-workflow/`), by name.
    pub roles: Vec<RoleInfo>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileSystemInfo {
    pub id: String,
    pub creation_token: String,
    pub tags: Tags,
    /// By id.
    pub mount_targets: Vec<MountTargetInfo>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MountTargetInfo {
    pub id: String,
    pub subnet_id: String,
    pub az: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecurityGroupInfo {
    pub id: String,
    pub name: String,
    pub vpc_id: String,
    pub tags: Tags,
    /// Sorted CIDRs of the ingress rules that cover TCP 2049 (NFS).
    pub nfs_ingress_cidrs: Vec<String>,
    /// Sorted source security group ids of the ingress rules that cover TCP 2049.
    pub nfs_ingress_groups: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KmsKeyInfo {
    pub id: String,
    pub description: String,
    pub tags: Tags,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KmsAliasInfo {
    pub name: String,
    pub target_key_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FargateProfileInfo {
    pub name: String,
    pub status: String,
    pub tags: Tags,
    pub subnets: Vec<String>,
    /// `(namespace, labels)` per selector, in order.
    pub selectors: Vec<(String, Tags)>,
}

impl Inventory {
    pub fn mount_targets(&self) -> impl Iterator<Item = &MountTargetInfo> {
        self.file_systems.iter().flat_map(|fs| &fs.mount_targets)
    }

    pub fn file_system(&self, id: &str) -> Option<&FileSystemInfo> {
        self.file_systems.iter().find(|fs| fs.id == id)
    }

    pub fn security_group(&self, id: &str) -> Option<&SecurityGroupInfo> {
        self.security_groups.iter().find(|sg| sg.id == id)
    }

    pub fn fargate_profile(&self, name: &str) -> Option<&FargateProfileInfo> {
        self.fargate_profiles.iter().find(|p| p.name == name)
    }

    /// The alarms on the file system `file_system_id`.
    pub fn alarms_on(&self, file_system_id: &str) -> Vec<&AlarmInfo> {
        self.alarms
            .iter()
            .filter(|a| {
                a.dimensions
                    .iter()
                    .any(|(k, v)| k == "FileSystemId" && v == file_system_id)
            })
            .collect()
    }
}

/// Takes the snapshot. `cluster_name` selects the Fargate profiles.
pub async fn inventory(clients: &AwsClients, cluster_name: &str) -> Inventory {
    Inventory {
        file_systems: file_systems(clients).await,
        security_groups: security_groups(clients).await,
        kms_keys: kms_keys(clients).await,
        kms_aliases: kms_aliases(clients).await,
        fargate_profiles: fargate_profiles(clients, cluster_name).await,
        alarms: alarms::alarms(clients).await,
        roles: roles::roles(clients).await,
    }
}

async fn file_systems(clients: &AwsClients) -> Vec<FileSystemInfo> {
    let descriptions: Vec<_> = clients
        .efs
        .describe_file_systems()
        .into_paginator()
        .items()
        .send()
        .collect::<Result<_, _>>()
        .await
        .or_panic("efs describe_file_systems");
    let mut out = Vec::new();
    for fs in descriptions {
        let mut mount_targets: Vec<MountTargetInfo> = clients
            .efs
            .describe_mount_targets()
            .file_system_id(&fs.file_system_id)
            .into_paginator()
            .items()
            .send()
            .collect::<Result<Vec<_>, _>>()
            .await
            .or_panic("efs describe_mount_targets")
            .into_iter()
            .map(|mt| MountTargetInfo {
                id: mt.mount_target_id,
                subnet_id: mt.subnet_id,
                az: mt.availability_zone_name.unwrap_or_default(),
            })
            .collect();
        mount_targets.sort_by(|a, b| a.id.cmp(&b.id));
        out.push(FileSystemInfo {
            id: fs.file_system_id,
            creation_token: fs.creation_token,
            tags: fs.tags.into_iter().map(|t| (t.key, t.value)).collect(),
            mount_targets,
        });
    }
    out.sort_by(|a, b| a.id.cmp(&b.id));
    out
}

async fn security_groups(clients: &AwsClients) -> Vec<SecurityGroupInfo> {
    let groups: Vec<_> = clients
        .ec2
        .describe_security_groups()
        .into_paginator()
        .items()
        .send()
        .collect::<Result<_, _>>()
        .await
        .or_panic("ec2 describe_security_groups");
    let mut out: Vec<SecurityGroupInfo> = groups
        .into_iter()
        .filter(|sg| sg.group_name() != Some("default"))
        .map(|sg| {
            let nfs: Vec<_> = sg.ip_permissions().iter().filter(|p| covers_nfs(p)).collect();
            let mut nfs_ingress_cidrs: Vec<String> = nfs
                .iter()
                .flat_map(|p| p.ip_ranges())
                .filter_map(|r| r.cidr_ip.clone())
                .collect();
            nfs_ingress_cidrs.sort();
            let mut nfs_ingress_groups: Vec<String> = nfs
                .iter()
                .flat_map(|p| p.user_id_group_pairs())
                .filter_map(|pair| pair.group_id.clone())
                .collect();
            nfs_ingress_groups.sort();
            SecurityGroupInfo {
                id: sg.group_id.clone().unwrap_or_default(),
                name: sg.group_name.clone().unwrap_or_default(),
                vpc_id: sg.vpc_id.clone().unwrap_or_default(),
                tags: sg
                    .tags()
                    .iter()
                    .map(|t| {
                        let text = |s: Option<&str>| s.unwrap_or_default().to_owned();
                        (text(t.key()), text(t.value()))
                    })
                    .collect(),
                nfs_ingress_cidrs,
                nfs_ingress_groups,
            }
        })
        .collect();
    out.sort_by(|a, b| a.id.cmp(&b.id));
    out
}

/// Whether an ingress permission admits TCP 2049 (`-1` is all protocols and ports).
fn covers_nfs(permission: &aws_sdk_ec2::types::IpPermission) -> bool {
    match permission.ip_protocol() {
        Some("-1") => true,
        Some("tcp") | Some("6") => {
            let from = permission.from_port().unwrap_or(0);
            let to = permission.to_port().unwrap_or(65535);
            (from..=to).contains(&2049)
        }
        _ => false,
    }
}

async fn kms_aliases_raw(clients: &AwsClients) -> Vec<aws_sdk_kms::types::AliasListEntry> {
    clients
        .kms
        .list_aliases()
        .into_paginator()
        .items()
        .send()
        .collect::<Result<_, _>>()
        .await
        .or_panic("kms list_aliases")
}

async fn kms_aliases(clients: &AwsClients) -> Vec<KmsAliasInfo> {
    let mut out: Vec<KmsAliasInfo> = kms_aliases_raw(clients)
        .await
        .into_iter()
        .filter_map(|alias| {
            let name = alias.alias_name?;
            (!name.starts_with("alias/aws/")).then_some(KmsAliasInfo {
                name,
                target_key_id: alias.target_key_id,
            })
        })
        .collect();
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

async fn kms_keys(clients: &AwsClients) -> Vec<KmsKeyInfo> {
    let aws_managed: Vec<String> = kms_aliases_raw(clients)
        .await
        .into_iter()
        .filter(|alias| alias.alias_name().is_some_and(|name| name.starts_with("alias/aws/")))
        .filter_map(|alias| alias.target_key_id)
        .collect();
    let keys: Vec<_> = clients
        .kms
        .list_keys()
        .into_paginator()
        .items()
        .send()
        .collect::<Result<_, _>>()
        .await
        .or_panic("kms list_keys");
    let mut out = Vec::new();
    for key in keys {
        let Some(id) = key.key_id else { continue };
        if aws_managed.contains(&id) {
            continue;
        }
        let metadata = clients
            .kms
            .describe_key()
            .key_id(&id)
            .send()
            .await
            .or_panic("kms describe_key")
            .key_metadata
            .expect("key metadata");
        if metadata.key_state != Some(KeyState::Enabled) || metadata.key_manager == Some(KeyManagerType::Aws) {
            continue;
        }
        let tags = clients
            .kms
            .list_resource_tags()
            .key_id(&id)
            .send()
            .await
            .or_panic("kms list_resource_tags")
            .tags
            .unwrap_or_default()
            .into_iter()
            .map(|t| (t.tag_key, t.tag_value))
            .collect();
        out.push(KmsKeyInfo {
            id,
            description: metadata.description.unwrap_or_default(),
            tags,
        });
    }
    out.sort_by(|a, b| a.id.cmp(&b.id));
    out
}

async fn fargate_profiles(clients: &AwsClients, cluster_name: &str) -> Vec<FargateProfileInfo> {
    // moto answers list_fargate_profiles on a missing cluster with HTTP 500 (which the SDK retries),
    // so look for the cluster first.
    match clients.eks.describe_cluster().name(cluster_name).send().await {
        Ok(_) => {}
        Err(e)
            if e.as_service_error()
                .is_some_and(|e| e.is_resource_not_found_exception()) =>
        {
            return Vec::new();
        }
        Err(e) => Err::<(), _>(e).or_panic("eks describe_cluster"),
    }
    let names: Vec<String> = clients
        .eks
        .list_fargate_profiles()
        .cluster_name(cluster_name)
        .into_paginator()
        .items()
        .send()
        .collect::<Result<_, _>>()
        .await
        .or_panic("eks list_fargate_profiles");
    let mut out = Vec::new();
    for name in names {
        let profile = clients
            .eks
            .describe_fargate_profile()
            .cluster_name(cluster_name)
            .fargate_profile_name(&name)
            .send()
            .await
            .or_panic("eks describe_fargate_profile")
            .fargate_profile
            .expect("fargate profile");
        out.push(FargateProfileInfo {
            name,
            status: profile.status().map(|s| s.as_str().to_owned()).unwrap_or_default(),
            tags: profile.tags.clone().unwrap_or_default().into_iter().collect(),
            subnets: profile.subnets.clone().unwrap_or_default(),
            selectors: profile
                .selectors()
                .iter()
                .map(|s| {
                    (
                        s.namespace().unwrap_or_default().to_owned(),
                        s.labels.clone().unwrap_or_default().into_iter().collect(),
                    )
                })
                .collect(),
        });
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}
