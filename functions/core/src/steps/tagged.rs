//! The tags of the resources that mark a provisioned namespace: EFS file systems and Fargate
//! profiles. The TTL reaper reads them for expiry, cleanup to see which namespaces still share a
//! cluster.

use crate::aws;
use crate::error::Result;
use crate::ownership::Tags;

/// Tags of every file system, and of the `fp-*` Fargate profiles of `cluster` (or of every cluster).
pub async fn file_system_and_profile_tags(
    efs: &aws_sdk_efs::Client,
    eks: &aws_sdk_eks::Client,
    cluster: Option<&str>,
) -> Result<Vec<Tags>> {
    let mut tagged: Vec<Tags> = aws::efs::file_systems(efs)
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
        None => aws::eks::cluster_names(eks).await?,
    };
    for cluster in clusters {
        let profiles = aws::eks::fargate_profile_names(eks, &cluster).await?;
        for name in profiles.iter().filter(|n| n.starts_with("fp-")) {
            if let Some(profile) = aws::eks::fargate_profile(eks, &cluster, name).await? {
                tagged.push(profile.tags().cloned().unwrap_or_default().into_iter().collect());
            }
        }
    }
    Ok(tagged)
}
