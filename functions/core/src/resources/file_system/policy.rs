//! The file system policy: NFS clients use TLS, come through a mount target, and reach the file
//! system only through the namespace's access point, never as root (no statement grants
//! `ClientRootAccess`, so EFS squashes root to nobody). The workflow writes it only on a file
//! system its ledger records, and only when it differs, so a re-run changes nothing.

use crate::aws;
use crate::error::Result;
use aws_sdk_efs::types::FileSystemDescription;
use serde_json::{Value, json};

/// What an NFS client does on EFS; none of them is an API call, so denying them cannot lock the
/// workflow out of its own file system.
const CLIENT_ACTIONS: [&str; 3] = [
    "elasticfilesystem:ClientMount",
    "elasticfilesystem:ClientWrite",
    "elasticfilesystem:ClientRootAccess",
];

/// The policy of `file_system_arn` whose only door is `access_point_arns`.
pub fn document(file_system_arn: &str, access_point_arns: &[String]) -> Value {
    let anyone = json!({"AWS": "*"});
    json!({
        "Version": "2012-10-17",
        "Id": "efs-fargate-workflow",
        "Statement": [
            {
                "Sid": "DenyUnencryptedTransport",
                "Effect": "Deny",
                "Principal": anyone,
                "Action": "*",
                "Resource": file_system_arn,
                "Condition": {"Bool": {"aws:SecureTransport": "false"}}
            },
            {
                "Sid": "DenyOutsideMountTargets",
                "Effect": "Deny",
                "Principal": anyone,
                "Action": CLIENT_ACTIONS,
                "Resource": file_system_arn,
                "Condition": {"Bool": {"elasticfilesystem:AccessedViaMountTarget": "false"}}
            },
            {
                // Also denies what an identity policy would grant: an IAM principal with
                // ClientRootAccess still cannot mount the file system's root.
                "Sid": "DenyOutsideNamespaceAccessPoints",
                "Effect": "Deny",
                "Principal": anyone,
                "Action": CLIENT_ACTIONS,
                "Resource": file_system_arn,
                "Condition": {"StringNotEquals": {"elasticfilesystem:AccessPointArn": access_point_arns}}
            },
            {
                "Sid": "MountAndWriteThroughNamespaceAccessPoints",
                "Effect": "Allow",
                "Principal": anyone,
                "Action": ["elasticfilesystem:ClientMount", "elasticfilesystem:ClientWrite"],
                "Resource": file_system_arn,
                "Condition": {
                    "Bool": {"elasticfilesystem:AccessedViaMountTarget": "true"},
                    "StringEquals": {"elasticfilesystem:AccessPointArn": access_point_arns}
                }
            }
        ]
    })
}

/// Puts [`document`] on `fs` (one the ledger records as the workflow's) unless it is there
/// already; `true` when it wrote it.
pub async fn converge(
    efs: &aws_sdk_efs::Client,
    fs: &FileSystemDescription,
    access_point_arns: &[String],
) -> Result<bool> {
    let id = fs.file_system_id();
    let wanted = document(fs.file_system_arn().unwrap_or_default(), access_point_arns);
    let actual = aws::efs::file_system_policy(efs, id).await?;
    // EFS may reformat the text: compare the JSON.
    if actual.and_then(|text| serde_json::from_str::<Value>(&text).ok()) == Some(wanted.clone()) {
        return Ok(false);
    }
    aws::efs::put_file_system_policy(efs, id, &wanted.to_string()).await?;
    tracing::info!(file_system = id, "file system policy written");
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_access_points_open_the_file_system_and_never_as_root() {
        let ap = "arn:aws:elasticfilesystem:us-east-1:123456789012:access-point/fsap-1".to_string();
        let policy = document("arn:fs", std::slice::from_ref(&ap));
        let statements = policy["Statement"].as_array().unwrap();
        let allows: Vec<&Value> = statements.iter().filter(|s| s["Effect"] == "Allow").collect();
        assert_eq!(allows.len(), 1);
        assert!(!allows[0]["Action"].to_string().contains("ClientRootAccess"));
        assert_eq!(
            allows[0]["Condition"]["StringEquals"]["elasticfilesystem:AccessPointArn"],
            json!([ap])
        );
        assert!(statements.iter().any(|s| s["Effect"] == "Deny"
            && s["Condition"]["Bool"]["aws:SecureTransport"] == "false"
            && s["Action"] == "*"));
        assert!(statements.iter().all(|s| s["Resource"] == "arn:fs"));
    }
}
