//! The file system's security group: NFS (TCP 2049) only from the cluster's private subnets. Found
//! by its name in the cluster's VPC and recorded in the namespace's part of the ledger; a group of
//! that name the ledger does not record is someone else's: `SecurityGroupConflict`, never opened
//! to NFS, never deleted. A group elsewhere that copies our tags is nothing to the workflow.

use std::collections::BTreeMap;

use aws_sdk_ec2::types::{Filter, IpPermission, IpRange, ResourceType, SecurityGroup, Tag, TagSpecification};

use super::{Kind, NOT_RECORDED, Recorder, Removal, records};
use crate::aws;
use crate::error::{Result, WorkflowError};
use crate::ledger::{Ledger, NamespaceView, Record};
use crate::ownership::Owner;
use crate::run::Subnet;

pub const NFS_PORT: i32 = 2049;

pub struct Found {
    pub group: Option<SecurityGroup>,
    pub record: Option<Record>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    Create,
    /// The workflow's own group: its id.
    Reuse(String),
}

/// The group with our name in `vpc_id`, whoever created it, and the ledger's record of the name.
pub async fn find(ec2: &aws_sdk_ec2::Client, view: &NamespaceView, owner: &Owner, vpc_id: &str) -> Result<Found> {
    let name = owner.security_group_name();
    let filters = [("group-name", name.clone()), ("vpc-id", vpc_id.to_string())]
        .into_iter()
        .map(|(name, value)| Filter::builder().name(name).values(value).build())
        .collect();
    Ok(Found {
        group: aws::ec2::security_groups(ec2, filters).await?.into_iter().next(),
        record: view.find(Kind::SecurityGroup, &name).cloned(),
    })
}

pub fn decide(found: &Found, owner: &Owner, vpc_id: &str) -> Result<Decision> {
    let Some(group) = &found.group else {
        return Ok(Decision::Create);
    };
    let group_id = group.group_id().unwrap_or_default();
    if found.record.as_ref().is_some_and(|r| records(r, group_id, None)) {
        return Ok(Decision::Reuse(group_id.to_string()));
    }
    Err(WorkflowError::SecurityGroupConflict {
        name: owner.security_group_name(),
        vpc_id: vpc_id.to_string(),
        group_id: group_id.to_string(),
    })
}

/// Creates the group (recorded) or takes the found one, then allows NFS from every private subnet
/// it does not allow yet; the group's id.
pub async fn apply(
    ec2: &aws_sdk_ec2::Client,
    recorder: Recorder<'_>,
    decision: Decision,
    vpc_id: &str,
    private_subnets: &[Subnet],
    tags: Vec<(String, String)>,
) -> Result<String> {
    let owner = recorder.owner;
    let name = owner.security_group_name();
    let place = recorder.namespace();
    let group_id = match decision {
        Decision::Reuse(id) => id,
        Decision::Create => {
            recorder.intend(place, Kind::SecurityGroup, &name).await?;
            create(ec2, owner, vpc_id, tags).await?
        }
    };
    recorder
        .settle(place, Kind::SecurityGroup, &name, &group_id, BTreeMap::new())
        .await?;
    let group = aws::ec2::security_groups(ec2, vec![Filter::builder().name("group-id").values(&group_id).build()])
        .await?
        .into_iter()
        .next();
    let allowed: Vec<String> = group
        .iter()
        .flat_map(|g| g.ip_permissions())
        .filter(|p| p.ip_protocol() == Some("tcp") && p.from_port() == Some(NFS_PORT) && p.to_port() == Some(NFS_PORT))
        .flat_map(|p| p.ip_ranges().iter().filter_map(|r| r.cidr_ip().map(str::to_string)))
        .collect();
    // One call per CIDR: EC2 rejects a whole call when any one rule in it exists already.
    for subnet in private_subnets.iter().filter(|s| !allowed.contains(&s.cidr_block)) {
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

async fn create(ec2: &aws_sdk_ec2::Client, owner: &Owner, vpc_id: &str, tags: Vec<(String, String)>) -> Result<String> {
    let name = owner.security_group_name();
    let tags = TagSpecification::builder()
        .resource_type(ResourceType::SecurityGroup)
        .set_tags(Some(
            tags.into_iter()
                .map(|(k, v)| Tag::builder().key(k).value(v).build())
                .collect(),
        ))
        .build();
    let request = ec2
        .create_security_group()
        .group_name(&name)
        .description(format!(
            "NFS to the EFS file system of {}/{} (efs-fargate-workflow)",
            owner.cluster, owner.namespace
        ))
        .vpc_id(vpc_id)
        .tag_specifications(tags);
    // A duplicate (a retry after a lost response) is found by its name below.
    aws::ec2::create_security_group(request).await?;
    tracing::info!(security_group = %name, "security group created");
    let filters = [("group-name", name.clone()), ("vpc-id", vpc_id.to_string())]
        .into_iter()
        .map(|(name, value)| Filter::builder().name(name).values(value).build())
        .collect();
    aws::ec2::security_groups(ec2, filters)
        .await?
        .into_iter()
        .next()
        .and_then(|g| g.group_id().map(str::to_string))
        .ok_or_else(|| WorkflowError::AwsApiError {
            operation: "ec2:DescribeSecurityGroups".into(),
            code: "SecurityGroupNotFound".into(),
            message: format!("security group {name} is not found in {vpc_id} right after its creation"),
        })
}

/// Deletes the namespace's recorded group (in a rollback: only its run's), unless a retained file
/// system's mount targets use it; groups that carry our tags but are not recorded are reported.
pub async fn remove(
    ec2: &aws_sdk_ec2::Client,
    ledger: &Ledger,
    owner: &Owner,
    view: &NamespaceView,
    scope: &super::CleanupScope,
) -> Result<Removal> {
    let name = owner.security_group_name();
    let place = owner.place();
    let mut removal = Removal::done();
    let recorded = view.find(Kind::SecurityGroup, &name);
    for group in aws::ec2::security_groups(ec2, ownership_filters(owner)).await? {
        let id = group.group_id().unwrap_or_default();
        if !recorded.is_some_and(|r| records(r, id, None)) {
            removal = removal.kept(format!("security group {id}"), NOT_RECORDED);
        }
    }
    let Some(record) = recorded else {
        return Ok(removal);
    };
    let what = format!("security group {}", record.resource_id.as_deref().unwrap_or(&name));
    if let Some(why) = scope.keeps(record) {
        return Ok(removal.kept(what, why));
    }
    if let Some(fs) = super::file_system::retained(view, owner) {
        let fs = fs.resource_id.as_deref().unwrap_or(&fs.key);
        return Ok(removal.kept(what, format!("used by retained file system {fs}")));
    }
    let id = match &record.resource_id {
        Some(id) if record.is_created() => Some(id.clone()),
        // An intent: the group its run may have made, found by its name (groups have no age).
        _ => aws::ec2::security_groups(ec2, vec![Filter::builder().name("group-name").values(&name).build()])
            .await?
            .into_iter()
            .find(|g| {
                g.tags()
                    .iter()
                    .any(|t| t.key() == Some(crate::ownership::RUN_ID_KEY) && t.value() == Some(record.run.as_str()))
            })
            .and_then(|g| g.group_id().map(str::to_string)),
    };
    if let Some(id) = id
        && aws::ec2::delete_security_group(ec2, &id).await?
    {
        removal = removal.removed(id);
    }
    ledger.forget(place, Kind::SecurityGroup, &name).await?;
    Ok(removal)
}

/// Groups that carry the namespace's tags: only to report the ones the ledger does not record.
fn ownership_filters(owner: &Owner) -> Vec<Filter> {
    use crate::ownership::{CLUSTER_KEY, MANAGED_BY_KEY, MANAGED_BY_VALUE, NAMESPACE_KEY};
    [
        (MANAGED_BY_KEY, MANAGED_BY_VALUE),
        (CLUSTER_KEY, owner.cluster.as_str()),
        (NAMESPACE_KEY, owner.namespace.as_str()),
    ]
    .into_iter()
    .map(|(key, value)| Filter::builder().name(format!("tag:{key}")).values(value).build())
    .collect()
}
