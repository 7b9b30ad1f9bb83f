//! IAM: the pod execution role, read (never changed) by the doctor.

use super::{all, found};
use crate::error::{Result, WorkflowError};
use aws_sdk_iam::types::Role;

/// The role's name: the last segment of its ARN (`arn:aws:iam::123456789012:role/path/Name`).
pub fn role_name(role_arn: &str) -> &str {
    role_arn.rsplit('/').next().unwrap_or(role_arn)
}

/// The role, or `None` when it does not exist.
pub async fn role(iam: &aws_sdk_iam::Client, role_arn: &str) -> Result<Option<Role>> {
    let described = found(
        iam.get_role().role_name(role_name(role_arn)).send().await,
        "iam:GetRole",
        |e| e.is_no_such_entity_exception(),
    )?;
    Ok(described.and_then(|out| out.role))
}

/// The ARNs of the managed policies attached to the role.
pub async fn attached_policy_arns(iam: &aws_sdk_iam::Client, role_arn: &str) -> Result<Vec<String>> {
    let attached = all(
        iam.list_attached_role_policies()
            .role_name(role_name(role_arn))
            .into_paginator()
            .items()
            .send()
            .collect(),
        "iam:ListAttachedRolePolicies",
    )
    .await?;
    Ok(attached.into_iter().filter_map(|p| p.policy_arn).collect())
}

/// The documents (JSON) of the role's inline policies.
pub async fn inline_policy_documents(iam: &aws_sdk_iam::Client, role_arn: &str) -> Result<Vec<String>> {
    let name = role_name(role_arn);
    let names: Vec<String> = all(
        iam.list_role_policies()
            .role_name(name)
            .into_paginator()
            .items()
            .send()
            .collect(),
        "iam:ListRolePolicies",
    )
    .await?;
    let mut documents = Vec::new();
    for policy in names {
        let got = iam
            .get_role_policy()
            .role_name(name)
            .policy_name(&policy)
            .send()
            .await
            .map_err(|e| WorkflowError::from_sdk("iam:GetRolePolicy", e))?;
        documents.push(decoded(got.policy_document()));
    }
    Ok(documents)
}

/// IAM returns policy documents URL-encoded (RFC 3986); other callers hand them over as JSON.
pub fn decoded(document: &str) -> String {
    if document.trim_start().starts_with('{') {
        return document.to_string();
    }
    let bytes = document.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(byte) => {
                        out.push(byte);
                        i += 3;
                    }
                    None => {
                        out.push(b'%');
                        i += 1;
                    }
                }
            }
            byte => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_documents() {
        assert_eq!(role_name("arn:aws:iam::123456789012:role/path/pods"), "pods");
        assert_eq!(decoded("%7B%22a%22%3A1%7D"), r#"{"a":1}"#);
        assert_eq!(decoded(r#"{"a": "%"}"#), r#"{"a": "%"}"#);
        assert_eq!(decoded("100%"), "100%");
    }
}
