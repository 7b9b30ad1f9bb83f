//! EC2: VPC attributes, subnets, route tables and security groups.

use super::{all, code, found, message};
use crate::error::{Result, WorkflowError};
use aws_sdk_ec2::operation::create_security_group::builders::CreateSecurityGroupFluentBuilder;
use aws_sdk_ec2::types::{Filter, IpPermission, RouteTable, SecurityGroup, Subnet, VpcAttributeName};

pub async fn subnets(ec2: &aws_sdk_ec2::Client, subnet_ids: &[String]) -> Result<Vec<Subnet>> {
    all(
        ec2.describe_subnets()
            .set_subnet_ids(Some(subnet_ids.to_vec()))
            .into_paginator()
            .items()
            .send()
            .collect(),
        "ec2:DescribeSubnets",
    )
    .await
}

/// Whether a VPC's boolean attribute (`EnableDnsSupport`, `EnableDnsHostnames`) is on.
pub async fn vpc_attribute(ec2: &aws_sdk_ec2::Client, vpc_id: &str, attribute: VpcAttributeName) -> Result<bool> {
    let described = ec2
        .describe_vpc_attribute()
        .vpc_id(vpc_id)
        .attribute(attribute.clone())
        .send()
        .await
        .map_err(|e| WorkflowError::from_sdk("ec2:DescribeVpcAttribute", e))?;
    let value = match attribute {
        VpcAttributeName::EnableDnsHostnames => described.enable_dns_hostnames(),
        _ => described.enable_dns_support(),
    };
    Ok(value.and_then(|v| v.value()).unwrap_or(false))
}

pub async fn route_tables(ec2: &aws_sdk_ec2::Client, vpc_id: &str) -> Result<Vec<RouteTable>> {
    all(
        ec2.describe_route_tables()
            .filters(Filter::builder().name("vpc-id").values(vpc_id).build())
            .into_paginator()
            .items()
            .send()
            .collect(),
        "ec2:DescribeRouteTables",
    )
    .await
}

pub async fn security_groups(ec2: &aws_sdk_ec2::Client, filters: Vec<Filter>) -> Result<Vec<SecurityGroup>> {
    all(
        ec2.describe_security_groups()
            .set_filters(Some(filters))
            .into_paginator()
            .items()
            .send()
            .collect(),
        "ec2:DescribeSecurityGroups",
    )
    .await
}

/// Sends a prepared CreateSecurityGroup; `InvalidGroup.Duplicate` (a concurrent retry) counts as
/// created: the caller looks the group up by its tags.
pub async fn create_security_group(request: CreateSecurityGroupFluentBuilder) -> Result<()> {
    match request.send().await {
        Err(e) if code(&e) == Some("InvalidGroup.Duplicate") => Ok(()),
        other => other
            .map(|_| ())
            .map_err(|e| WorkflowError::from_sdk("ec2:CreateSecurityGroup", e)),
    }
}

/// Adds one rule; a rule that exists already counts as added (EC2 rejects the whole call then, so
/// callers send one rule per call).
pub async fn authorize_ingress(ec2: &aws_sdk_ec2::Client, group_id: &str, rule: IpPermission) -> Result<()> {
    let authorized = ec2
        .authorize_security_group_ingress()
        .group_id(group_id)
        .ip_permissions(rule)
        .send()
        .await;
    match authorized {
        Err(e) if code(&e) == Some("InvalidPermission.Duplicate") => Ok(()),
        other => other
            .map(|_| ())
            .map_err(|e| WorkflowError::from_sdk("ec2:AuthorizeSecurityGroupIngress", e)),
    }
}

/// `false` when the group is gone already; `DependencyNotReady` while network interfaces (of
/// mount targets being deleted, released asynchronously) still use it.
pub async fn delete_security_group(ec2: &aws_sdk_ec2::Client, group_id: &str) -> Result<bool> {
    match ec2.delete_security_group().group_id(group_id).send().await {
        Err(e) if code(&e) == Some("DependencyViolation") => Err(WorkflowError::DependencyNotReady {
            resource: format!("security group {group_id}"),
            message: message(&e, "still in use"),
        }),
        Err(e) if code(&e) == Some("InvalidGroup.NotFound") => Ok(false),
        other => Ok(found(other, "ec2:DeleteSecurityGroup", |_| false)?.is_some()),
    }
}
