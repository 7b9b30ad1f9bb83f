//! Validation rules for input fields. Each returns `InvalidInput` naming the field and the rule.

use crate::error::{Result, WorkflowError};
use jiff::{Span, SpanRelativeTo, Unit};

/// Shortest TTL: a provisioning run takes minutes, so a shorter one would reap a run in flight.
pub const MIN_TTL_SECONDS: i64 = 30 * 60;
/// Longest TTL: temporary environments beyond 90 days are not temporary.
pub const MAX_TTL_SECONDS: i64 = 90 * 24 * 3600;

/// EKS cluster names: 1–100 characters, alphanumerics, hyphens and underscores, starting with an
/// alphanumeric.
pub fn cluster_name(field: &str, name: &str) -> Result<()> {
    let valid = (1..=100).contains(&name.len())
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if valid {
        Ok(())
    } else {
        Err(WorkflowError::invalid(
            field,
            format!(
                "must be an EKS cluster name (1-100 letters, digits, '-' or '_', starting with a letter or digit), got {name:?}"
            ),
        ))
    }
}

/// Step Functions execution names (the run id): 1–80 letters, digits, '-' or '_'.
pub fn run_id(field: &str, id: &str) -> Result<()> {
    let valid = (1..=80).contains(&id.len()) && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if valid {
        Ok(())
    } else {
        Err(WorkflowError::invalid(
            field,
            format!("must be an execution name (1-80 letters, digits, '-' or '_'), got {id:?}"),
        ))
    }
}

/// The deployment's id: a CloudFormation stack name (1-128 letters, digits or '-', starting with a
/// letter), which every tag value, label value and ledger key can carry.
pub fn deployment_id(field: &str, id: &str) -> Result<()> {
    let valid = (1..=128).contains(&id.len())
        && id.starts_with(|c: char| c.is_ascii_alphabetic())
        && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    if valid {
        Ok(())
    } else {
        Err(WorkflowError::invalid(
            field,
            format!("must be a stack name (1-128 letters, digits or '-', starting with a letter), got {id:?}"),
        ))
    }
}

/// Kubernetes namespace names are DNS-1123 labels; the `kube-` prefix and `default` are reserved.
pub fn namespace(field: &str, name: &str) -> Result<()> {
    let label = (1..=63).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !name.starts_with('-')
        && !name.ends_with('-');
    if !label {
        return Err(WorkflowError::invalid(
            field,
            format!(
                "must be a DNS-1123 label (1-63 lowercase letters, digits or '-', starting and ending with a letter or digit), got {name:?}"
            ),
        ));
    }
    if name == "default" || name.starts_with("kube-") {
        return Err(WorkflowError::invalid(
            field,
            format!("must not be a reserved namespace (`default`, `kube-*`), got {name:?}"),
        ));
    }
    Ok(())
}

pub fn role_arn(field: &str, arn: &str) -> Result<()> {
    iam_arn(field, arn, "role", "arn:aws:iam::123456789012:role/MyRole")
}

/// A customer-managed policy's ARN, such as a permissions boundary.
pub fn policy_arn(field: &str, arn: &str) -> Result<()> {
    iam_arn(field, arn, "policy", "arn:aws:iam::123456789012:policy/MyPolicy")
}

fn iam_arn(field: &str, arn: &str, resource_type: &str, example: &str) -> Result<()> {
    let mut parts = arn.splitn(6, ':');
    let valid = parts.next() == Some("arn")
        && parts.next().is_some_and(|p| p.starts_with("aws"))
        && parts.next() == Some("iam")
        && parts.next() == Some("")
        && parts
            .next()
            .is_some_and(|a| a.len() == 12 && a.chars().all(|c| c.is_ascii_digit()))
        && parts.next().is_some_and(|r| {
            r.strip_prefix(resource_type)
                .and_then(|rest| rest.strip_prefix('/'))
                .is_some_and(|name| !name.is_empty())
        });
    if valid {
        Ok(())
    } else {
        Err(WorkflowError::invalid(
            field,
            format!("must be an IAM {resource_type} ARN such as {example}, got {arn:?}"),
        ))
    }
}

/// CloudWatch Logs' naming rule, checked when the deployment is read so that a bad name fails the
/// first call, not each pod's log router or collector.
pub fn log_group_name(field: &str, name: &str) -> Result<()> {
    let valid =
        (1..=512).contains(&name.len()) && name.chars().all(|c| c.is_ascii_alphanumeric() || "_-/.#".contains(c));
    if valid {
        Ok(())
    } else {
        Err(WorkflowError::invalid(
            field,
            "must be a CloudWatch Logs group name: up to 512 letters, digits and _-/.#",
        ))
    }
}

/// A customer-managed KMS alias. `alias/aws/*` names AWS-managed keys: omit the alias for those.
pub fn kms_alias(field: &str, alias: &str) -> Result<()> {
    let name = alias.strip_prefix("alias/").unwrap_or_default();
    let valid =
        !name.is_empty() && alias.len() <= 256 && name.chars().all(|c| c.is_ascii_alphanumeric() || "/_-".contains(c));
    if !valid {
        return Err(WorkflowError::invalid(
            field,
            format!("must look like alias/my-key (letters, digits, '/', '_', '-'), got {alias:?}"),
        ));
    }
    if name.starts_with("aws/") {
        return Err(WorkflowError::invalid(
            field,
            "must not name an AWS-managed key (alias/aws/...): omit kmsKeyAlias to use the AWS-managed EFS key",
        ));
    }
    Ok(())
}

/// An EFS file system id as EFS prints it: `fs-` and 8 or 17 hex digits. The plain form is also
/// what Fargate's built-in EFS handler requires as a PV `volumeHandle` (it rejects `efs:fs-...`).
pub fn file_system_id(field: &str, id: &str) -> Result<()> {
    efs_id(field, id, "fs-", "file system")
}

/// An EFS access point id (`fsap-` and 17 hex digits; moto makes 8).
pub fn access_point_id(field: &str, id: &str) -> Result<()> {
    efs_id(field, id, "fsap-", "access point")
}

/// `prefix` and 8 or 17 lowercase hex digits: the shape of EFS's resource ids.
fn efs_id(field: &str, id: &str, prefix: &str, what: &str) -> Result<()> {
    let hex = id.strip_prefix(prefix).unwrap_or_default();
    let valid = matches!(hex.len(), 8 | 17) && hex.chars().all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c));
    if valid {
        Ok(())
    } else {
        Err(WorkflowError::invalid(
            field,
            format!("must be an EFS {what} id such as {prefix}0123456789abcdef0, got {id:?}"),
        ))
    }
}

/// An ISO-8601 duration (`PT8H`, `P2D`, `P1DT12H`) within [`MIN_TTL_SECONDS`, `MAX_TTL_SECONDS`],
/// returned in seconds. Days count as 24 hours; months and years are refused as ambiguous.
pub fn ttl_seconds(field: &str, ttl: &str) -> Result<i64> {
    // jiff also reads friendly durations ("8h"); the input contract is ISO 8601 only.
    let iso = if ttl.starts_with('P') { ttl } else { "" };
    let span: Span = iso.parse().map_err(|_| {
        WorkflowError::invalid(
            field,
            format!("must be an ISO-8601 duration such as PT8H or P2D, got {ttl:?}"),
        )
    })?;
    if span.get_years() != 0 || span.get_months() != 0 || span.get_weeks() != 0 {
        return Err(WorkflowError::invalid(
            field,
            "must use days, hours, minutes or seconds only (P2D, PT8H)",
        ));
    }
    let seconds = span
        .total((Unit::Second, SpanRelativeTo::days_are_24_hours()))
        .map_err(|e| WorkflowError::invalid(field, e.to_string()))? as i64;
    if !(MIN_TTL_SECONDS..=MAX_TTL_SECONDS).contains(&seconds) {
        return Err(WorkflowError::invalid(
            field,
            format!("must be between PT30M and P90D, got {ttl:?}"),
        ));
    }
    Ok(seconds)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cluster_names() {
        for ok in ["demo", "a", "my_cluster-1", &"x".repeat(100)] {
            assert!(cluster_name("c", ok).is_ok(), "{ok}");
        }
        for bad in ["", "-demo", "demo.prod", "dé", &"x".repeat(101)] {
            assert!(cluster_name("c", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn run_ids_are_execution_names() {
        assert!(run_id("r", "provision-demo-1").is_ok());
        assert!(run_id("r", "has space").is_err());
        assert!(run_id("r", "").is_err());
        assert!(run_id("r", &"x".repeat(81)).is_err());
    }

    #[test]
    fn namespaces() {
        for ok in ["poc-efs-eks-fargate", "a", "a1", &"n".repeat(63)] {
            assert!(namespace("n", ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "Upper",
            "a_b",
            "-a",
            "a-",
            &"n".repeat(64),
            "kube-system",
            "default",
        ] {
            assert!(namespace("n", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn role_arns() {
        assert!(role_arn("r", "arn:aws:iam::123456789012:role/pods").is_ok());
        assert!(role_arn("r", "arn:aws-cn:iam::123456789012:role/path/pods").is_ok());
        for bad in [
            "",
            "arn:aws:iam::123:role/x",
            "arn:aws:iam::123456789012:user/x",
            "arn:aws:iam::123456789012:role/",
        ] {
            assert!(role_arn("r", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn kms_aliases() {
        assert!(kms_alias("k", "alias/efs-poc").is_ok());
        for bad in ["efs-poc", "alias/", "alias/aws/elasticfilesystem", "alias/has space"] {
            assert!(kms_alias("k", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn ttls() {
        assert_eq!(ttl_seconds("t", "PT8H").unwrap(), 8 * 3600);
        assert_eq!(ttl_seconds("t", "P1DT12H").unwrap(), 36 * 3600);
        assert_eq!(ttl_seconds("t", "PT30M").unwrap(), 1800);
        for bad in ["8h", "PT1M", "P91D", "P1M", "P1Y", ""] {
            assert!(ttl_seconds("t", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn file_system_ids_are_the_plain_form() {
        for ok in ["fs-12345678", "fs-0123456789abcdef0"] {
            assert!(file_system_id("f", ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "fs-",
            "efs:fs-12345678",
            "fs-1234567",
            "fs-ABCDEF12",
            "fs-12345678::fsap-1",
        ] {
            assert!(file_system_id("f", bad).is_err(), "{bad}");
        }
    }
}
