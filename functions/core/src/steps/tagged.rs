//! The tags of the resources that mark a provisioned namespace: EFS file systems and Fargate
//! profiles. The TTL reaper reads them for expiry, cleanup to see which namespaces still share a
//! cluster.

use crate::error::{Result, WorkflowError};
use crate::steps::efs::file_system;
use crate::steps::fargate;
use std::collections::BTreeMap;

/// The tags of one resource.
pub type Tags = BTreeMap<String, String>;

/// Tags of every file system, and of the `fp-*` Fargate profiles of `cluster` (or of every cluster).
pub async fn file_system_and_profile_tags(
    efs: &aws_sdk_efs::Client,
    eks: &aws_sdk_eks::Client,
    cluster: Option<&str>,
) -> Result<Vec<Tags>> {
    let mut tagged: Vec<Tags> = file_system::list_all(efs)
        .await?
        .iter()
        .map(|fs| {
            fs.tags()
                .iter()
                .map(|t| (t.key().to_string(), t.value().to_string()))
                .collect()
        })
        .collect();
    let clusters = match cluster {
        Some(cluster) => vec![cluster.to_string()],
        None => eks
            .list_clusters()
            .into_paginator()
            .items()
            .send()
            .collect::<std::result::Result<Vec<_>, _>>()
            .await
            .map_err(|e| WorkflowError::from_sdk("eks:ListClusters", e))?,
    };
    for cluster in clusters {
        let listed = eks
            .list_fargate_profiles()
            .cluster_name(&cluster)
            .into_paginator()
            .items()
            .send()
            .collect::<std::result::Result<Vec<_>, _>>()
            .await;
        let profiles = match listed {
            Ok(profiles) => profiles,
            // The cluster went away: so did its profiles.
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_resource_not_found_exception()) =>
            {
                vec![]
            }
            Err(e) => return Err(WorkflowError::from_sdk("eks:ListFargateProfiles", e)),
        };
        for name in profiles.iter().filter(|n| n.starts_with("fp-")) {
            if let Some(profile) = fargate::describe_profile_of(eks, &cluster, name).await? {
                tagged.push(profile.tags().cloned().unwrap_or_default().into_iter().collect());
            }
        }
    }
    Ok(tagged)
}
