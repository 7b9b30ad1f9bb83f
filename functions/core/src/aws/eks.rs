//! EKS: clusters, Fargate profiles and access entries.

use super::{all, code, found, message};
use crate::error::{Result, WorkflowError};
use aws_sdk_eks::operation::create_fargate_profile::builders::CreateFargateProfileFluentBuilder;
use aws_sdk_eks::types::{AccessEntry, AccessScope, AssociatedAccessPolicy, Cluster, FargateProfile};
use std::collections::HashMap;

/// The cluster, or `ClusterNotFound`.
pub async fn cluster(eks: &aws_sdk_eks::Client, name: &str) -> Result<Cluster> {
    let described = found(
        eks.describe_cluster().name(name).send().await,
        "eks:DescribeCluster",
        |e| e.is_resource_not_found_exception(),
    )?;
    described
        .and_then(|out| out.cluster().cloned())
        .ok_or_else(|| WorkflowError::ClusterNotFound {
            cluster: name.to_string(),
        })
}

pub async fn cluster_names(eks: &aws_sdk_eks::Client) -> Result<Vec<String>> {
    all(
        eks.list_clusters().into_paginator().items().send().collect(),
        "eks:ListClusters",
    )
    .await
}

/// The cluster's Fargate profile names; none for a cluster that is gone (its profiles went with it).
pub async fn fargate_profile_names(eks: &aws_sdk_eks::Client, cluster: &str) -> Result<Vec<String>> {
    let listed = eks
        .list_fargate_profiles()
        .cluster_name(cluster)
        .into_paginator()
        .items()
        .send()
        .collect::<std::result::Result<Vec<_>, _>>()
        .await;
    Ok(found(listed, "eks:ListFargateProfiles", |e| {
        e.is_resource_not_found_exception()
    })?
    .unwrap_or_default())
}

pub async fn fargate_profile(eks: &aws_sdk_eks::Client, cluster: &str, name: &str) -> Result<Option<FargateProfile>> {
    let described = eks
        .describe_fargate_profile()
        .cluster_name(cluster)
        .fargate_profile_name(name)
        .send()
        .await;
    Ok(found(described, "eks:DescribeFargateProfile", |e| {
        e.is_resource_not_found_exception()
    })?
    .and_then(|out| out.fargate_profile().cloned()))
}

/// Sends a prepared CreateFargateProfile. EKS changes one profile of a cluster at a time and
/// answers `ResourceInUseException` otherwise (also when the profile exists): `FargateProfileBusy`.
pub async fn create_fargate_profile(
    request: CreateFargateProfileFluentBuilder,
    cluster: &str,
) -> Result<Option<FargateProfile>> {
    match request.send().await {
        Ok(out) => Ok(out.fargate_profile().cloned()),
        Err(e) if code(&e) == Some("ResourceInUseException") => Err(busy(cluster, &e)),
        Err(e) => Err(WorkflowError::from_sdk("eks:CreateFargateProfile", e)),
    }
}

/// `false` when the profile is gone already; `FargateProfileBusy` while another profile changes.
pub async fn delete_fargate_profile(eks: &aws_sdk_eks::Client, cluster: &str, name: &str) -> Result<bool> {
    let deleted = eks
        .delete_fargate_profile()
        .cluster_name(cluster)
        .fargate_profile_name(name)
        .send()
        .await;
    match deleted {
        Err(e) if code(&e) == Some("ResourceInUseException") => Err(busy(cluster, &e)),
        other => Ok(found(other, "eks:DeleteFargateProfile", |e| {
            e.is_resource_not_found_exception()
        })?
        .is_some()),
    }
}

fn busy<E: aws_smithy_types::error::metadata::ProvideErrorMetadata, R>(
    cluster: &str,
    error: &aws_smithy_runtime_api::client::result::SdkError<E, R>,
) -> WorkflowError {
    WorkflowError::FargateProfileBusy {
        cluster: cluster.to_string(),
        message: message(error, "resource in use"),
    }
}

pub async fn access_entry(eks: &aws_sdk_eks::Client, cluster: &str, principal: &str) -> Result<Option<AccessEntry>> {
    let described = eks
        .describe_access_entry()
        .cluster_name(cluster)
        .principal_arn(principal)
        .send()
        .await;
    Ok(found(described, "eks:DescribeAccessEntry", |e| {
        e.is_resource_not_found_exception()
    })?
    .and_then(|out| out.access_entry().cloned()))
}

/// The principals with an access entry; none for a cluster that is gone, or one in `CONFIG_MAP`
/// mode (EKS answers `InvalidRequestException` there: such a cluster has no access entries).
pub async fn access_entry_principals(eks: &aws_sdk_eks::Client, cluster: &str) -> Result<Vec<String>> {
    let listed = eks
        .list_access_entries()
        .cluster_name(cluster)
        .into_paginator()
        .items()
        .send()
        .collect::<std::result::Result<Vec<_>, _>>()
        .await;
    Ok(found(listed, "eks:ListAccessEntries", |e| {
        e.is_resource_not_found_exception() || e.is_invalid_request_exception()
    })?
    .unwrap_or_default())
}

/// Creates the entry; `ResourceInUseException` (a retry after a lost response) counts as done.
pub async fn create_access_entry(
    eks: &aws_sdk_eks::Client,
    cluster: &str,
    principal: &str,
    kubernetes_groups: Vec<String>,
    tags: HashMap<String, String>,
) -> Result<()> {
    let created = eks
        .create_access_entry()
        .cluster_name(cluster)
        .principal_arn(principal)
        // Named, though it is the default: IAM's `eks:accessEntryType` condition sees only what the
        // request says.
        .r#type("STANDARD")
        .set_kubernetes_groups(Some(kubernetes_groups).filter(|groups| !groups.is_empty()))
        .set_tags(Some(tags))
        .send()
        .await;
    match created {
        Err(e) if code(&e) == Some("ResourceInUseException") => Ok(()),
        other => other
            .map(|_| ())
            .map_err(|e| WorkflowError::from_sdk("eks:CreateAccessEntry", e)),
    }
}

/// `false` when the entry is gone already.
pub async fn delete_access_entry(eks: &aws_sdk_eks::Client, cluster: &str, principal: &str) -> Result<bool> {
    let deleted = eks
        .delete_access_entry()
        .cluster_name(cluster)
        .principal_arn(principal)
        .send()
        .await;
    Ok(found(deleted, "eks:DeleteAccessEntry", |e| {
        e.is_resource_not_found_exception()
    })?
    .is_some())
}

pub async fn associated_access_policies(
    eks: &aws_sdk_eks::Client,
    cluster: &str,
    principal: &str,
) -> Result<Vec<AssociatedAccessPolicy>> {
    all(
        eks.list_associated_access_policies()
            .cluster_name(cluster)
            .principal_arn(principal)
            .into_paginator()
            .items()
            .send()
            .collect(),
        "eks:ListAssociatedAccessPolicies",
    )
    .await
}

pub async fn associate_access_policy(
    eks: &aws_sdk_eks::Client,
    cluster: &str,
    principal: &str,
    policy_arn: &str,
    scope: AccessScope,
) -> Result<()> {
    eks.associate_access_policy()
        .cluster_name(cluster)
        .principal_arn(principal)
        .policy_arn(policy_arn)
        .access_scope(scope)
        .send()
        .await
        .map(|_| ())
        .map_err(|e| WorkflowError::from_sdk("eks:AssociateAccessPolicy", e))
}

/// `false` when the policy was not associated (or the entry is gone).
pub async fn disassociate_access_policy(
    eks: &aws_sdk_eks::Client,
    cluster: &str,
    principal: &str,
    policy_arn: &str,
) -> Result<bool> {
    let disassociated = eks
        .disassociate_access_policy()
        .cluster_name(cluster)
        .principal_arn(principal)
        .policy_arn(policy_arn)
        .send()
        .await;
    Ok(found(disassociated, "eks:DisassociateAccessPolicy", |e| {
        e.is_resource_not_found_exception()
    })?
    .is_some())
}

/// Replaces the entry's Kubernetes groups.
pub async fn set_kubernetes_groups(
    eks: &aws_sdk_eks::Client,
    cluster: &str,
    principal: &str,
    groups: Vec<String>,
) -> Result<()> {
    eks.update_access_entry()
        .cluster_name(cluster)
        .principal_arn(principal)
        .set_kubernetes_groups(Some(groups))
        .send()
        .await
        .map(|_| ())
        .map_err(|e| WorkflowError::from_sdk("eks:UpdateAccessEntry", e))
}

/// An EKS resource's tags as `(key, value)` pairs, for the ownership checks.
pub fn tag_pairs(tags: Option<&HashMap<String, String>>) -> impl Iterator<Item = (&str, &str)> + Clone {
    tags.into_iter().flatten().map(|(k, v)| (k.as_str(), v.as_str()))
}
