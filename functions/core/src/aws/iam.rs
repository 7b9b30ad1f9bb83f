//! IAM: the pod execution role, read (never changed) by the doctor; the clusters' OIDC providers,
//! read; and the Container Insights collector roles the workflow creates, changes and deletes.

use super::{all, found};
use crate::error::{Result, WorkflowError};
use aws_sdk_iam::types::Role;

/// The role's name: the last segment of its ARN (`arn:aws:iam::123456789012:role/path/Name`).
pub fn role_name(role_arn: &str) -> &str {
    role_arn.rsplit('/').next().unwrap_or(role_arn)
}

/// The role, or `None` when it does not exist.
pub async fn role(iam: &aws_sdk_iam::Client, role_arn: &str) -> Result<Option<Role>> {
    role_named(iam, role_name(role_arn)).await
}

/// The role of that name, or `None`.
pub async fn role_named(iam: &aws_sdk_iam::Client, name: &str) -> Result<Option<Role>> {
    let described = found(iam.get_role().role_name(name).send().await, "iam:GetRole", |e| {
        e.is_no_such_entity_exception()
    })?;
    Ok(described.and_then(|out| out.role))
}

/// The role's tags as pairs (GetRole returns them).
pub fn role_tags(role: &Role) -> Vec<(&str, &str)> {
    role.tags().iter().map(|t| (t.key(), t.value())).collect()
}

/// Whether IAM has this OpenID Connect provider.
pub async fn oidc_provider_exists(iam: &aws_sdk_iam::Client, provider_arn: &str) -> Result<bool> {
    let got = found(
        iam.get_open_id_connect_provider()
            .open_id_connect_provider_arn(provider_arn)
            .send()
            .await,
        "iam:GetOpenIDConnectProvider",
        |e| e.is_no_such_entity_exception(),
    )?;
    Ok(got.is_some())
}

/// What a new role is made of.
pub struct NewRole<'a> {
    pub name: &'a str,
    pub path: &'a str,
    pub description: &'a str,
    pub trust_policy: &'a str,
    pub permissions_boundary: &'a str,
    pub tags: &'a [(String, String)],
}

/// Creates the role; `None` when one of that name already exists (the caller reads it).
pub async fn create_role(iam: &aws_sdk_iam::Client, new: &NewRole<'_>) -> Result<Option<Role>> {
    let mut request = iam
        .create_role()
        .role_name(new.name)
        .path(new.path)
        .description(new.description)
        .assume_role_policy_document(new.trust_policy)
        .permissions_boundary(new.permissions_boundary);
    for (key, value) in new.tags {
        request = request.tags(
            aws_sdk_iam::types::Tag::builder()
                .key(key)
                .value(value)
                .build()
                .expect("key and value are set"),
        );
    }
    let created = found(request.send().await, "iam:CreateRole", |e| {
        e.is_entity_already_exists_exception()
    })?;
    Ok(created.and_then(|out| out.role))
}

pub async fn update_trust_policy(iam: &aws_sdk_iam::Client, name: &str, document: &str) -> Result<()> {
    iam.update_assume_role_policy()
        .role_name(name)
        .policy_document(document)
        .send()
        .await
        .map_err(|e| WorkflowError::from_sdk("iam:UpdateAssumeRolePolicy", e))?;
    Ok(())
}

/// The role's inline policy of that name, decoded; `None` when it has none.
pub async fn inline_policy(iam: &aws_sdk_iam::Client, role: &str, policy: &str) -> Result<Option<String>> {
    let got = found(
        iam.get_role_policy().role_name(role).policy_name(policy).send().await,
        "iam:GetRolePolicy",
        |e| e.is_no_such_entity_exception(),
    )?;
    Ok(got.map(|out| decoded(out.policy_document())))
}

pub async fn put_inline_policy(iam: &aws_sdk_iam::Client, role: &str, policy: &str, document: &str) -> Result<()> {
    iam.put_role_policy()
        .role_name(role)
        .policy_name(policy)
        .policy_document(document)
        .send()
        .await
        .map_err(|e| WorkflowError::from_sdk("iam:PutRolePolicy", e))?;
    Ok(())
}

/// Deletes the role with its inline policies (IAM refuses to delete a role that has any); `false`
/// when it was already gone.
pub async fn delete_role(iam: &aws_sdk_iam::Client, name: &str) -> Result<bool> {
    let policies = inline_policy_names(iam, name).await.or_else(|e| match e {
        WorkflowError::AwsApiError { ref code, .. } if code == "NoSuchEntity" => Ok(vec![]),
        other => Err(other),
    })?;
    for policy in policies {
        found(
            iam.delete_role_policy()
                .role_name(name)
                .policy_name(&policy)
                .send()
                .await,
            "iam:DeleteRolePolicy",
            |e| e.is_no_such_entity_exception(),
        )?;
    }
    let deleted = found(iam.delete_role().role_name(name).send().await, "iam:DeleteRole", |e| {
        e.is_no_such_entity_exception()
    })?;
    Ok(deleted.is_some())
}

async fn inline_policy_names(iam: &aws_sdk_iam::Client, role: &str) -> Result<Vec<String>> {
    all(
        iam.list_role_policies()
            .role_name(role)
            .into_paginator()
            .items()
            .send()
            .collect(),
        "iam:ListRolePolicies",
    )
    .await
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
    let mut documents = Vec::new();
    for policy in inline_policy_names(iam, name).await? {
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
