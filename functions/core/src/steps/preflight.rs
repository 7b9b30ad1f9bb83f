//! Before a run creates anything: a resource under one of the workflow's names that the workflow
//! did not create is a named conflict, never silently taken over, unless the input adopts it
//! (namespaces and Fargate profiles only). A look-alike file system or security group would
//! otherwise receive our mount targets and rules, and be half-deleted by our cleanup. The
//! namespace is checked by the first Kubernetes step (`fargate-profile namespace`), which the
//! state machine runs before any AWS resource is created.

use crate::aws;
use crate::error::{Result, WorkflowError};
use crate::input::ProvisionRequest;
use crate::ownership::Owner;
use crate::run::Network;
use crate::steps::efs::security_group;
use crate::steps::fargate;

/// The AWS resources under our names: file system (creation token), security group (name, in the
/// cluster's VPC) and Fargate profile.
pub async fn check_aws_names(
    clients: &crate::clients::AwsClients,
    request: &ProvisionRequest,
    network: &Network,
) -> Result<()> {
    let owner = Owner::new(&request.cluster_name, &request.namespace);
    if let Some(fs) = aws::efs::file_system_by_token(&clients.efs, &owner.creation_token()).await?
        && !owner.owns(fs.tags().iter().map(|t| (t.key(), t.value())))
    {
        return Err(WorkflowError::FileSystemConflict {
            file_system_id: fs.file_system_id().to_string(),
            creation_token: fs.creation_token().to_string(),
            difference: "it does not carry the workflow's ownership tags, so someone else created it and the workflow will neither use nor delete it; delete or re-token it, or choose another namespace".into(),
        });
    }
    if let Some(group) = security_group::find_named(&clients.ec2, &owner, &network.vpc_id).await?
        && !owner.owns(group.tags().iter().filter_map(|t| Some((t.key()?, t.value()?))))
    {
        return Err(WorkflowError::SecurityGroupConflict {
            name: owner.security_group_name(),
            vpc_id: network.vpc_id.clone(),
            group_id: group.group_id().unwrap_or_default().to_string(),
        });
    }
    let profile_name = owner.fargate_profile_name();
    if let Some(profile) = aws::eks::fargate_profile(&clients.eks, &owner.cluster, &profile_name).await? {
        fargate::check_adoptable(&profile, &owner, request)?;
    }
    Ok(())
}
