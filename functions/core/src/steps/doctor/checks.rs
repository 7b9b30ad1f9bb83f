//! The doctor's own checks (the conflict checks live in `preflight`, the access checks in
//! `access`): each returns what it found when it passes, or the named error a run would fail with.

use super::policy;
use crate::aws;
use crate::clients::AwsClients;
use crate::error::{Result, WorkflowError};
use crate::ownership::Owner;
use crate::run::Network;
use aws_sdk_ec2::types::VpcAttributeName;
use aws_sdk_eks::types::Cluster;

/// Free addresses a mount-target subnet needs: the mount target's network interface.
const MOUNT_TARGET_ADDRESSES: i32 = 1;

/// EFS mount names resolve only in a VPC with DNS support and DNS hostnames.
pub async fn vpc_dns(clients: &AwsClients, network: &Network) -> Result<String> {
    let vpc = network.vpc_id.as_str();
    let support = aws::ec2::vpc_attribute(&clients.ec2, vpc, VpcAttributeName::EnableDnsSupport).await?;
    let hostnames = aws::ec2::vpc_attribute(&clients.ec2, vpc, VpcAttributeName::EnableDnsHostnames).await?;
    let off: Vec<&str> = [(support, "enableDnsSupport"), (hostnames, "enableDnsHostnames")]
        .into_iter()
        .filter_map(|(on, name)| (!on).then_some(name))
        .collect();
    if off.is_empty() {
        Ok(format!("VPC {vpc} has enableDnsSupport and enableDnsHostnames on"))
    } else {
        Err(WorkflowError::VpcDnsDisabled {
            vpc_id: vpc.to_string(),
            attributes: off.join(" and "),
        })
    }
}

/// Every mount-target subnet has a free address for the mount target, unless the namespace's file
/// system already has its mount target there.
pub async fn subnet_addresses(clients: &AwsClients, owner: &Owner, network: &Network) -> Result<String> {
    let ids: Vec<String> = network
        .mount_target_subnets
        .iter()
        .map(|s| s.subnet_id.clone())
        .collect();
    let subnets = aws::ec2::subnets(&clients.ec2, &ids).await?;
    let existing: Vec<String> = match aws::efs::file_system_by_token(&clients.efs, &owner.creation_token()).await? {
        Some(fs) => aws::efs::mount_targets(&clients.efs, fs.file_system_id())
            .await?
            .into_iter()
            .map(|mt| mt.subnet_id)
            .collect(),
        None => Vec::new(),
    };
    let mut found = Vec::new();
    for subnet in subnets
        .iter()
        .filter(|s| s.subnet_id().is_some_and(|id| ids.iter().any(|i| i == id)))
    {
        let id = subnet.subnet_id().unwrap_or_default();
        let available = subnet.available_ip_address_count().unwrap_or(0);
        let needed = if existing.iter().any(|s| s == id) {
            0
        } else {
            MOUNT_TARGET_ADDRESSES
        };
        if available < needed {
            return Err(WorkflowError::SubnetFull {
                subnet_id: id.to_string(),
                availability_zone: subnet.availability_zone().unwrap_or_default().to_string(),
                available,
                needed,
            });
        }
        found.push(format!("{id} {available} free"));
    }
    Ok(format!("mount-target subnets: {}", found.join(", ")))
}

/// The functions run outside the cluster's VPC (template.yaml gives them no VpcConfig), so they
/// reach the Kubernetes API only through its public endpoint, open to AWS's addresses.
pub fn endpoint_access(cluster: &Cluster) -> Result<String> {
    let name = cluster.name().unwrap_or_default().to_string();
    let Some(config) = cluster.resources_vpc_config() else {
        return Err(WorkflowError::ClusterEndpointUnreachable {
            cluster: name,
            reason: "EKS reported no endpoint access configuration".into(),
        });
    };
    if !config.endpoint_public_access() && !config.endpoint_private_access() {
        // EKS refuses to turn both off, so neither reported means a describe without them.
        return Ok("no endpoint access reported; EKS's default is a public endpoint".into());
    }
    if !config.endpoint_public_access() {
        return Err(WorkflowError::ClusterEndpointUnreachable {
            cluster: name,
            reason: "its endpoint is private only, and the functions run outside the cluster's VPC".into(),
        });
    }
    let cidrs = config.public_access_cidrs();
    if !cidrs.is_empty() && !cidrs.iter().any(|c| c == "0.0.0.0/0") {
        return Err(WorkflowError::ClusterEndpointUnreachable {
            cluster: name,
            reason: format!(
                "its public endpoint admits only {} and Lambda functions outside a VPC call from AWS's changing addresses",
                cidrs.join(", ")
            ),
        });
    }
    let private = if config.endpoint_private_access() {
        " (and private)"
    } else {
        ""
    };
    Ok(format!("public endpoint{private} open to the functions"))
}

/// What the doctor learned about the pod execution role: whether Fargate may assume it, and
/// whether it may pull images.
pub struct RoleFindings {
    pub trust: Result<String>,
    pub policy: Result<String>,
}

pub async fn pod_execution_role(clients: &AwsClients, role_arn: &str) -> Result<Option<RoleFindings>> {
    let invalid = |reason: String| WorkflowError::PodExecutionRoleInvalid {
        role_arn: role_arn.to_string(),
        reason,
    };
    let Some(role) = aws::iam::role(&clients.iam, role_arn).await? else {
        return Ok(None);
    };
    let trust_document = aws::iam::decoded(role.assume_role_policy_document().unwrap_or_default());
    let trust = if policy::trusts_fargate(&trust_document) {
        Ok(format!(
            "{} trusts {}",
            role.role_name(),
            policy::FARGATE_PODS_PRINCIPAL
        ))
    } else {
        Err(invalid(format!(
            "its trust policy does not allow {} to sts:AssumeRole; add a statement with that service principal",
            policy::FARGATE_PODS_PRINCIPAL
        )))
    };
    let attached = aws::iam::attached_policy_arns(&clients.iam, role_arn).await?;
    let suffix = format!(":policy/{}", policy::FARGATE_POLICY_NAME);
    let policy = if attached.iter().any(|arn| arn.ends_with(&suffix)) {
        Ok(format!("{} is attached", policy::FARGATE_POLICY_NAME))
    } else {
        let inline = aws::iam::inline_policy_documents(&clients.iam, role_arn).await?;
        let missing = policy::missing_pull_actions(inline.iter().map(String::as_str));
        if missing.is_empty() {
            Ok(format!(
                "an inline policy grants what {} does",
                policy::FARGATE_POLICY_NAME
            ))
        } else {
            Err(invalid(format!(
                "it has neither {} attached nor an inline policy allowing {}, so Fargate cannot pull images; attach the policy (`aws iam attach-role-policy --role-name {} --policy-arn arn:aws:iam::aws:policy/{}`)",
                policy::FARGATE_POLICY_NAME,
                missing.join(", "),
                aws::iam::role_name(role_arn),
                policy::FARGATE_POLICY_NAME
            )))
        }
    };
    Ok(Some(RoleFindings { trust, policy }))
}
