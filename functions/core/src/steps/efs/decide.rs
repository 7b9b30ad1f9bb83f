//! Every decision of epic02, made before anything is changed: the doctor (so `prepare` fails before
//! anything is created), the plan and the `efs` step call these, so a run that would fail on a
//! conflict (another `posixUser`, another performance mode, a key or replica it cannot have, a
//! look-alike security group) changes nothing, not even the settings it could change in place.

use aws_sdk_efs::types::ReplicationConfigurationDescription;

use crate::aws;
use crate::clients::AwsClients;
use crate::error::Result;
use crate::input::ProvisionRequest;
use crate::ledger::{Ledger, NamespaceView};
use crate::ownership::Owner;
use crate::resources::file_system::{self, KeyChoice};
use crate::resources::{access_point, kms_key, replication, security_group};

/// The decisions about the file system and what hangs on it.
pub struct FileSystemPlan {
    /// The customer key's decision and alias; `None` for the AWS-managed key or no encryption.
    pub key: Option<(kms_key::Decision, String)>,
    pub found: file_system::Found,
    pub file_system: file_system::Decision,
    pub access_point: access_point::Decision,
    /// The file system's replication now (looked up only when the input asks for one: not every
    /// EFS endpoint serves the call, and it costs one per poll).
    pub replication: Option<ReplicationConfigurationDescription>,
}

/// Decides on the key, the file system, its access point and its replication.
pub async fn file_system_plan(
    clients: &AwsClients,
    ledger: &Ledger,
    view: &NamespaceView,
    owner: &Owner,
    request: &ProvisionRequest,
) -> Result<FileSystemPlan> {
    let encryption = &request.encryption;
    let key = match (encryption.at_rest, encryption.kms_key_alias.as_deref()) {
        (true, Some(alias)) => {
            let found = kms_key::find(&clients.kms, ledger, alias).await?;
            Some((kms_key::decide(&found)?, alias.to_string()))
        }
        _ => None,
    };
    let choice = key.as_ref().map(|(decision, alias)| match decision {
        kms_key::Decision::Use(key) => KeyChoice {
            alias: alias.clone(),
            arn: key.key_arn.clone(),
        },
        // A new key: no existing file system can be encrypted with it (a conflict if one exists).
        kms_key::Decision::Create => KeyChoice {
            alias: alias.clone(),
            arn: format!("(a new key behind {alias})"),
        },
    });
    let found = file_system::find(&clients.efs, view, owner).await?;
    let decision = file_system::decide(&found, request, choice.as_ref())?;
    let (access_point, replication) = match &decision {
        file_system::Decision::Create => (access_point::Decision::Create, None),
        file_system::Decision::Reuse(fs) => {
            let points = aws::efs::access_points(&clients.efs, fs.file_system_id()).await?;
            let access_point = access_point::decide(view, owner, &points, fs.file_system_id(), request.posix_user)?;
            let wanted = request.file_system.replication.as_ref();
            let existing = match wanted {
                Some(_) => replication::find(&clients.efs, fs).await?,
                None => None,
            };
            replication::decide(fs, existing.as_ref(), wanted)?;
            (access_point, existing)
        }
    };
    Ok(FileSystemPlan {
        key,
        found,
        file_system: decision,
        access_point,
        replication,
    })
}

/// Decides on the security group in `vpc_id`.
pub async fn security_group_plan(
    ec2: &aws_sdk_ec2::Client,
    view: &NamespaceView,
    owner: &Owner,
    vpc_id: &str,
) -> Result<security_group::Decision> {
    let found = security_group::find(ec2, view, owner, vpc_id).await?;
    security_group::decide(&found, owner, vpc_id)
}
