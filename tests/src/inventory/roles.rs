//! The IAM roles of the inventory: those under the path the workflow creates its roles in (the
//! Container Insights collectors').

use efs_fargate_core::clients::AwsClients;
use efs_fargate_core::resources::collector::role::PATH;

use super::Tags;
use crate::check::OrPanic;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleInfo {
    pub name: String,
    pub arn: String,
    pub permissions_boundary: Option<String>,
    /// The trust policy, decoded.
    pub trust_policy: serde_json::Value,
    /// Inline policies by name, decoded.
    pub inline_policies: Vec<(String, serde_json::Value)>,
    pub tags: Tags,
}

pub(super) async fn roles(clients: &AwsClients) -> Vec<RoleInfo> {
    let listed: Vec<_> = clients
        .iam
        .list_roles()
        .path_prefix(PATH)
        .into_paginator()
        .items()
        .send()
        .collect::<Result<_, _>>()
        .await
        .or_panic("iam list_roles");
    let mut out = Vec::new();
    for role in listed {
        // ListRoles leaves out the tags and the boundary; GetRole has them.
        let role = clients
            .iam
            .get_role()
            .role_name(role.role_name())
            .send()
            .await
            .or_panic("iam get_role")
            .role
            .expect("a role");
        let names: Vec<String> = clients
            .iam
            .list_role_policies()
            .role_name(role.role_name())
            .send()
            .await
            .or_panic("iam list_role_policies")
            .policy_names
            .clone();
        let mut inline_policies = Vec::new();
        for name in names {
            let document = clients
                .iam
                .get_role_policy()
                .role_name(role.role_name())
                .policy_name(&name)
                .send()
                .await
                .or_panic("iam get_role_policy");
            inline_policies.push((name, json(document.policy_document())));
        }
        out.push(RoleInfo {
            name: role.role_name().to_string(),
            arn: role.arn().to_string(),
            permissions_boundary: role
                .permissions_boundary()
                .and_then(|b| b.permissions_boundary_arn())
                .map(str::to_string),
            trust_policy: json(role.assume_role_policy_document().unwrap_or("{}")),
            inline_policies,
            tags: role
                .tags()
                .iter()
                .map(|t| (t.key().to_string(), t.value().to_string()))
                .collect(),
        });
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

fn json(document: &str) -> serde_json::Value {
    serde_json::from_str(&efs_fargate_core::aws::iam::decoded(document)).expect("a JSON policy document")
}
