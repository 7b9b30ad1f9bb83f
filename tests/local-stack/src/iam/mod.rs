//! IAM on the local stack: each function's AWS calls are authorized against its role's policies
//! from `template.yaml`, and a call they do not allow fails with `AccessDenied`, as AWS answers it.
//!
//! Each role the template gives a function has an access key of its own here ([`RoleKeys`]); the
//! gateway builds every function's clients with its role's key, so the key of a request tells the
//! role, as a role session's credentials do on AWS. Requests signed with any other key (the
//! tests', the operator's, the CLI's) are not the workflow's and are not evaluated.
//!
//! Every call of a function is evaluated: its action, the resource ARNs it is on and the context
//! keys the service supplies, per service ([`eks`], [`efs`], [`ec2`], [`json_target`] for KMS,
//! DynamoDB and Step Functions, [`query`] for IAM, CloudWatch and STS). A call none of them
//! models is refused, never let through.

mod context;
mod ec2;
mod efs;
mod eks;
pub mod evaluate;
mod json_target;
mod query;
mod sts;

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::response::Response;
use bytes::Bytes;
use http::StatusCode;
use serde_json::Value;

use crate::gateway::Shared;
use crate::protocol_errors::{self, AwsError, Protocol};
use crate::template::{Template, TemplateError};
use evaluate::{Decision, Request, check_policy, decide};

/// What authorizing one call reads: moto's resources, asked with the caller's own request headers.
pub(crate) struct Lookup<'a> {
    pub shared: &'a Shared,
    pub parts: &'a http::request::Parts,
}

impl Lookup<'_> {
    /// moto's JSON answer to a `GET` of `path`; `None` when it answers an error.
    pub(crate) async fn get(&self, path: &str) -> Result<Option<Value>, Unmodelled> {
        Ok(self.reply(path).await?.json())
    }

    /// moto's answer to a `GET` of `path` as text (EC2's XML); `None` when it answers an error.
    pub(crate) async fn get_text(&self, path: &str) -> Result<Option<String>, Unmodelled> {
        let reply = self.reply(path).await?;
        Ok(reply
            .status
            .is_success()
            .then(|| String::from_utf8_lossy(&reply.body).into_owned()))
    }

    /// moto's JSON answer to the JSON-protocol call `target` with `body`; `None` on an error.
    pub(crate) async fn call(&self, target: &str, body: &Value) -> Result<Option<Value>, Unmodelled> {
        let reply = crate::access::moto_call_json(&self.shared.upstream, self.parts, target, body)
            .await
            .map_err(|failure| Unmodelled(format!("asking moto {target}: {failure}")))?;
        Ok(reply.json())
    }

    async fn reply(&self, path: &str) -> Result<crate::reply::Reply, Unmodelled> {
        crate::access::moto_get(&self.shared.upstream, self.parts, path)
            .await
            .map_err(|failure| Unmodelled(format!("reading {path} from moto: {failure}")))
    }

    /// `arn:aws:<service>:<region>:<account>`: the request's signing region, moto's account.
    pub(crate) fn arn_prefix(&self, service: &str) -> String {
        let region = crate::sigv4::region(&self.parts.headers).unwrap_or(workflow_tests::REGION);
        format!("arn:aws:{service}:{region}:{}", workflow_tests::ACCOUNT_ID)
    }
}

/// A call the local stack cannot describe to IAM: refused, never guessed at.
#[derive(Debug)]
pub(crate) struct Unmodelled(pub String);

/// One of the template's roles, as the local stack holds it.
#[derive(Clone, Debug)]
pub struct Role {
    pub logical_id: String,
    /// Its name on the local stack (`efs-workflow-cluster-access` for `ClusterAccessRole`).
    pub name: String,
    pub access_key_id: String,
    pub secret_access_key: String,
    pub functions: Vec<String>,
    /// The roles (logical ids) its trust policy lets assume it: none for a function's own role,
    /// which Lambda assumes.
    pub trusted_by: Vec<String>,
    documents: Vec<Value>,
}

impl Role {
    /// The ARN STS gives the functions' session of this role.
    pub fn session_arn(&self) -> String {
        format!(
            "arn:aws:sts::{}:assumed-role/{}/efs-fargate-workflow",
            workflow_tests::ACCOUNT_ID,
            self.name
        )
    }
}

/// The local name of a role: `efs-workflow-` and its logical id in kebab case without `Role`.
pub fn role_name(logical_id: &str) -> String {
    let base = logical_id.strip_suffix("Role").unwrap_or(logical_id);
    let mut name = String::from("efs-workflow");
    for c in base.chars() {
        if c.is_ascii_uppercase() {
            name.push('-');
        }
        name.push(c.to_ascii_lowercase());
    }
    name
}

/// The template's function roles, by access key.
#[derive(Clone, Debug, Default)]
pub struct RoleKeys {
    by_key: Arc<BTreeMap<String, Role>>,
}

#[derive(Debug, thiserror::Error)]
pub enum IamError {
    #[error(transparent)]
    Template(#[from] TemplateError),
    #[error("the policies of {role} cannot be evaluated faithfully: {source}")]
    Policy {
        role: String,
        source: evaluate::PolicyError,
    },
}

impl RoleKeys {
    /// Every role a function of `template` runs as, and every role they may assume, with its
    /// policies resolved against `names` (each role's own name and ARN are added to them).
    pub fn from_template(template: &Template, mut names: crate::template::Names) -> Result<Self, IamError> {
        let mut roles: BTreeMap<String, (Vec<String>, Vec<String>)> = template
            .function_roles()?
            .into_iter()
            .map(|(role, functions)| (role, (functions, Vec::new())))
            .collect();
        for (role, trusted) in template.assumable_roles() {
            roles.entry(role).or_default().1 = trusted;
        }
        for logical_id in roles.keys() {
            let name = role_name(logical_id);
            names.insert(
                format!("{logical_id}.Arn"),
                format!("arn:aws:iam::{}:role/{name}", workflow_tests::ACCOUNT_ID),
            );
            names.insert(logical_id.clone(), name);
        }
        let mut by_key = BTreeMap::new();
        for (logical_id, (functions, trusted_by)) in roles {
            let documents = template.role_documents(&logical_id, &names)?;
            for document in &documents {
                check_policy(document).map_err(|source| IamError::Policy {
                    role: logical_id.clone(),
                    source,
                })?;
            }
            let name = names[&logical_id].clone();
            let access_key_id = format!("local-{name}");
            let role = Role {
                secret_access_key: format!("{access_key_id}-secret"),
                access_key_id: access_key_id.clone(),
                name,
                logical_id,
                functions,
                trusted_by,
                documents,
            };
            by_key.insert(access_key_id, role);
        }
        Ok(Self {
            by_key: Arc::new(by_key),
        })
    }

    pub fn roles(&self) -> impl Iterator<Item = &Role> {
        self.by_key.values()
    }

    /// The role `function` (an `EFS_WORKFLOW_FUNCTION` name) runs as.
    pub fn of_function(&self, function: &str) -> Option<&Role> {
        self.roles().find(|role| role.functions.iter().any(|f| f == function))
    }

    /// The same roles with one statement (by `Sid`) taken out of `role`'s policies: what a
    /// template without it would give.
    pub fn without_statement(&self, role: &str, sid: &str) -> Self {
        self.with_documents_of(role, |documents| {
            for document in documents {
                if let Some(statements) = document["Statement"].as_array_mut() {
                    statements.retain(|s| s["Sid"] != sid);
                }
            }
        })
    }

    /// The same roles with `statement` added to `role`'s policies: for a test whose stand-ins
    /// (a state machine of its own) the template cannot name.
    pub fn with_statement(&self, role: &str, statement: Value) -> Self {
        self.with_documents_of(role, |documents| {
            documents.push(serde_json::json!({ "Version": "2012-10-17", "Statement": [statement] }));
        })
    }

    /// A copy whose role `role` has its policy documents changed by `change`.
    fn with_documents_of(&self, role: &str, change: impl FnOnce(&mut Vec<Value>)) -> Self {
        let mut by_key = (*self.by_key).clone();
        if let Some(held) = by_key.values_mut().find(|r| r.logical_id == role) {
            change(&mut held.documents);
        }
        Self {
            by_key: Arc::new(by_key),
        }
    }

    fn of_key(&self, access_key_id: &str) -> Option<&Role> {
        self.by_key.get(access_key_id)
    }

    fn of_arn(&self, arn: &str) -> Option<&Role> {
        let name = arn.strip_prefix(&format!("arn:aws:iam::{}:role/", workflow_tests::ACCOUNT_ID))?;
        self.roles().find(|role| role.name == name)
    }
}

pub(crate) use sts::serve as assume_role;

/// `None` when the call may go on; else the `AccessDenied` answer, in the service's protocol.
pub(crate) async fn authorize(
    shared: &Shared,
    service: Option<&str>,
    parts: &http::request::Parts,
    body: &Bytes,
) -> Option<Response> {
    let role = crate::sigv4::access_key_id(&parts.headers).and_then(|key| shared.roles.of_key(key))?;
    let lookup = &Lookup { shared, parts };
    let requests = match service {
        Some("eks") => eks::requests(lookup, body).await,
        Some("elasticfilesystem") => efs::requests(lookup, body).await,
        Some("ec2") => ec2::requests(lookup, body).await,
        Some("kms" | "dynamodb" | "states") => json_target::requests(lookup, body).await,
        Some(service @ ("iam" | "monitoring" | "sts")) => query::requests(lookup, service, body).await,
        other => Err(Unmodelled(format!(
            "a call to {}",
            other.unwrap_or("an unsigned endpoint")
        ))),
    };
    shared.stats.iam_evaluated();
    let caller = role.session_arn();
    let denial = match &requests {
        Ok(requests) => requests
            .iter()
            .find_map(|request| denial(&caller, &role.documents, request)),
        Err(Unmodelled(call)) => Some(format!(
            "User: {caller} is not authorized: the local stack does not model {call}, so it refuses it"
        )),
    }?;
    shared.stats.iam_denied();
    // The request's context is tags and ARNs, never a secret.
    tracing::warn!(role = %role.logical_id, %denial, ?requests, "IAM denied a call");
    let protocol = Protocol::of_service(service.unwrap_or_default());
    let error = AwsError {
        status: StatusCode::FORBIDDEN,
        code: protocol.access_denied_code(),
        message: &denial,
    };
    Some(protocol_errors::response(protocol, error, "local-gateway-iam"))
}

/// AWS's message for a denied request, or `None` when the policies allow it.
fn denial(caller: &str, documents: &[Value], request: &Request) -> Option<String> {
    let Request { action, resource, .. } = request;
    match decide(documents, request) {
        Decision::Allowed => None,
        Decision::ExplicitDeny(sid) => Some(format!(
            "User: {caller} is not authorized to perform: {action} on resource: {resource} with an explicit \
             deny in an identity-based policy (statement {})",
            sid.unwrap_or_default()
        )),
        Decision::ImplicitDeny => Some(format!(
            "User: {caller} is not authorized to perform: {action} on resource: {resource} because no \
             identity-based policy allows the {action} action"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_role_names_are_the_logical_ids_in_kebab_case() {
        assert_eq!(role_name("ClusterAccessRole"), "efs-workflow-cluster-access");
        assert_eq!(role_name("TtlReaperRole"), "efs-workflow-ttl-reaper");
        assert_eq!(role_name("EfsRole"), "efs-workflow-efs");
    }
}
