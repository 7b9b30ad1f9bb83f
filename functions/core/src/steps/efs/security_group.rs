//! The file system's security group: NFS (TCP 2049) only from the cluster's private subnets.

use crate::error::{Result, WorkflowError, sdk_error_code};
use crate::ownership::{CLUSTER_KEY, MANAGED_BY_KEY, MANAGED_BY_VALUE, NAMESPACE_KEY, Owner};
use crate::run::Run;
use aws_sdk_ec2::types::{Filter, IpPermission, IpRange, ResourceType, SecurityGroup, Tag, TagSpecification};

pub const NFS_PORT: i32 = 2049;

fn ownership_filters(owner: &Owner) -> Vec<Filter> {
    [
        (MANAGED_BY_KEY, MANAGED_BY_VALUE),
        (CLUSTER_KEY, owner.cluster.as_str()),
        (NAMESPACE_KEY, owner.namespace.as_str()),
    ]
    .into_iter()
    .map(|(key, value)| Filter::builder().name(format!("tag:{key}")).values(value).build())
    .collect()
}

/// Our security groups for this cluster and namespace, in any VPC (cleanup may run after the
/// cluster is gone).
pub async fn find_owned(ec2: &aws_sdk_ec2::Client, owner: &Owner) -> Result<Vec<SecurityGroup>> {
    ec2.describe_security_groups()
        .set_filters(Some(ownership_filters(owner)))
        .send()
        .await
        .map(|out| out.security_groups().to_vec())
        .map_err(|e| WorkflowError::from_sdk("ec2:DescribeSecurityGroups", e))
}

/// The security group with our name in `vpc_id`, whoever created it.
pub async fn find_named(ec2: &aws_sdk_ec2::Client, owner: &Owner, vpc_id: &str) -> Result<Option<SecurityGroup>> {
    let filters = [
        ("group-name", owner.security_group_name()),
        ("vpc-id", vpc_id.to_string()),
    ]
    .into_iter()
    .map(|(name, value)| Filter::builder().name(name).values(value).build());
    ec2.describe_security_groups()
        .set_filters(Some(filters.collect()))
        .send()
        .await
        .map(|out| out.security_groups().first().cloned())
        .map_err(|e| WorkflowError::from_sdk("ec2:DescribeSecurityGroups", e))
}

pub async fn ensure_security_group(ec2: &aws_sdk_ec2::Client, run: &Run) -> Result<String> {
    let owner = run.owner();
    let vpc_id = &run.network.vpc_id;
    let existing = find_owned(ec2, &owner)
        .await?
        .into_iter()
        .find(|g| g.vpc_id() == Some(vpc_id.as_str()));
    let group = match existing {
        Some(group) => group,
        None => create(ec2, run).await?,
    };
    let group_id = group.group_id().unwrap_or_default().to_string();
    let allowed: Vec<&str> = group
        .ip_permissions()
        .iter()
        .filter(|p| p.ip_protocol() == Some("tcp") && p.from_port() == Some(NFS_PORT) && p.to_port() == Some(NFS_PORT))
        .flat_map(|p| p.ip_ranges().iter().filter_map(|r| r.cidr_ip()))
        .collect();
    // One call per CIDR: EC2 rejects a whole call when any one rule in it exists already.
    for subnet in run
        .network
        .private_subnets
        .iter()
        .filter(|s| !allowed.contains(&s.cidr_block.as_str()))
    {
        let rule = IpPermission::builder()
            .ip_protocol("tcp")
            .from_port(NFS_PORT)
            .to_port(NFS_PORT)
            .ip_ranges(
                IpRange::builder()
                    .cidr_ip(&subnet.cidr_block)
                    .description(format!(
                        "NFS from private subnet {} ({})",
                        subnet.subnet_id, subnet.availability_zone
                    ))
                    .build(),
            )
            .build();
        match ec2
            .authorize_security_group_ingress()
            .group_id(&group_id)
            .ip_permissions(rule)
            .send()
            .await
        {
            Ok(_) => {}
            Err(e) if sdk_error_code(&e) == Some("InvalidPermission.Duplicate") => {}
            Err(e) => {
                return Err(WorkflowError::from_sdk("ec2:AuthorizeSecurityGroupIngress", e));
            }
        }
    }
    Ok(group_id)
}

async fn create(ec2: &aws_sdk_ec2::Client, run: &Run) -> Result<SecurityGroup> {
    let name = run.owner().security_group_name();
    let tags = TagSpecification::builder()
        .resource_type(ResourceType::SecurityGroup)
        .set_tags(Some(
            run.tags(&name)
                .into_iter()
                .map(|(k, v)| Tag::builder().key(k).value(v).build())
                .collect(),
        ))
        .build();
    let created = ec2
        .create_security_group()
        .group_name(&name)
        .description(format!(
            "NFS to the EFS file system of {}/{} (efs-fargate-workflow)",
            run.request.cluster_name, run.request.namespace
        ))
        .vpc_id(&run.network.vpc_id)
        .tag_specifications(tags)
        .send()
        .await;
    match created {
        Ok(_) => tracing::info!(security_group = %name, "security group created"),
        // Created by a concurrent retry: it carries our tags and is found below.
        Err(e) if sdk_error_code(&e) == Some("InvalidGroup.Duplicate") => {}
        Err(e) => return Err(WorkflowError::from_sdk("ec2:CreateSecurityGroup", e)),
    }
    find_owned(ec2, &run.owner())
        .await?
        .into_iter()
        .find(|g| g.vpc_id() == Some(run.network.vpc_id.as_str()))
        .ok_or_else(|| WorkflowError::SecurityGroupConflict {
            group_id: "(see the EC2 console)".into(),
            name,
            vpc_id: run.network.vpc_id.clone(),
        })
}
