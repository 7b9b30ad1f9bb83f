//! The file system's security group: NFS (TCP 2049) only from the cluster's private subnets.

use crate::aws;
use crate::error::{Result, WorkflowError};
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
    aws::ec2::security_groups(ec2, ownership_filters(owner)).await
}

/// The security group with our name in `vpc_id`, whoever created it.
pub async fn find_named(ec2: &aws_sdk_ec2::Client, owner: &Owner, vpc_id: &str) -> Result<Option<SecurityGroup>> {
    let filters = [
        ("group-name", owner.security_group_name()),
        ("vpc-id", vpc_id.to_string()),
    ]
    .into_iter()
    .map(|(name, value)| Filter::builder().name(name).values(value).build());
    Ok(aws::ec2::security_groups(ec2, filters.collect())
        .await?
        .into_iter()
        .next())
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
        aws::ec2::authorize_ingress(ec2, &group_id, rule).await?;
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
    let request = ec2
        .create_security_group()
        .group_name(&name)
        .description(format!(
            "NFS to the EFS file system of {}/{} (efs-fargate-workflow)",
            run.request.cluster_name, run.request.namespace
        ))
        .vpc_id(&run.network.vpc_id)
        .tag_specifications(tags);
    // Created by a concurrent retry counts too: that group carries our tags and is found below.
    aws::ec2::create_security_group(request).await?;
    tracing::info!(security_group = %name, "security group created");
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
