//! Before a run creates anything: a resource under one of the workflow's names that the workflow
//! did not create is a named conflict, never silently taken over, unless the input adopts it
//! (namespaces and Fargate profiles only). A look-alike file system or security group would
//! otherwise receive our mount targets and rules, and be half-deleted by our cleanup. The
//! namespace is checked by the first Kubernetes step (`fargate-profile namespace`), which the
//! state machine runs before any AWS resource is created.

use crate::aws;
use crate::clients::AwsClients;
use crate::error::{Result, WorkflowError};
use crate::input::ProvisionRequest;
use crate::ownership::Owner;
use crate::run::Network;
use crate::steps::efs::security_group;
use crate::steps::fargate;

/// The file system under our creation token, if any, must be ours. Returns what was found.
pub async fn check_file_system_name(clients: &AwsClients, owner: &Owner) -> Result<String> {
    let token = owner.creation_token();
    let Some(fs) = aws::efs::file_system_by_token(&clients.efs, &token).await? else {
        return Ok(format!("no file system with creation token {token}"));
    };
    if !owner.owns(fs.tags().iter().map(|t| (t.key(), t.value()))) {
        return Err(WorkflowError::FileSystemConflict {
            file_system_id: fs.file_system_id().to_string(),
            creation_token: fs.creation_token().to_string(),
            difference: "it does not carry the workflow's ownership tags, so someone else created it and the workflow will neither use nor delete it; delete or re-token it, or choose another namespace".into(),
        });
    }
    Ok(format!(
        "file system {} with creation token {token} is the workflow's",
        fs.file_system_id()
    ))
}

/// The security group under our name in the cluster's VPC, if any, must be ours.
pub async fn check_security_group_name(clients: &AwsClients, owner: &Owner, network: &Network) -> Result<String> {
    let name = owner.security_group_name();
    let Some(group) = security_group::find_named(&clients.ec2, owner, &network.vpc_id).await? else {
        return Ok(format!("no security group {name} in {}", network.vpc_id));
    };
    let group_id = group.group_id().unwrap_or_default().to_string();
    if !owner.owns(group.tags().iter().filter_map(|t| Some((t.key()?, t.value()?)))) {
        return Err(WorkflowError::SecurityGroupConflict {
            name,
            vpc_id: network.vpc_id.clone(),
            group_id,
        });
    }
    Ok(format!("security group {name} ({group_id}) is the workflow's"))
}

/// The Fargate profile under our name, if any, must be ours or adopted.
pub async fn check_fargate_profile_name(
    clients: &AwsClients,
    owner: &Owner,
    request: &ProvisionRequest,
) -> Result<String> {
    let name = owner.fargate_profile_name();
    let Some(profile) = aws::eks::fargate_profile(&clients.eks, &owner.cluster, &name).await? else {
        return Ok(format!("no Fargate profile {name}"));
    };
    fargate::check_adoptable(&profile, owner, request)?;
    Ok(format!("Fargate profile {name} is the workflow's or adopted"))
}
