//! Who is calling and what they may do, the way an EKS cluster with access entries decides it:
//! the bearer token names an access key; the access key stands for an IAM caller; the caller's
//! principal must have an access entry (else 401); then the entry's access policies (the EKS
//! authorizer webhook) and the RBAC bindings of its username and groups decide (else 403).
//!
//! Without an access-entry source the server keeps its original rule: every valid signer (or each
//! one in an allow-list) may do everything, and the others nothing.

pub mod access;
pub mod attributes;
pub mod escalation;
pub mod identity;
pub mod policies;
pub mod rbac;
pub mod review;
pub mod rules;
pub mod token;

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::SystemTime;

use http::HeaderMap;

use crate::api::status::{ApiError, Reason};
use crate::store::Store;
use access::{AccessEntrySource, AccessPolicy};
use identity::{AUTHENTICATED_GROUP, CallerIdentity, principal_of};
use rbac::Subject;
use rules::Attributes;
use token::{TokenError, TokenVerifier};

/// An authenticated caller: its Kubernetes identity and the access policies of its entry.
#[derive(Clone, Debug)]
pub struct User {
    pub subject: Subject,
    pub policies: Vec<AccessPolicy>,
}

/// How callers are mapped to users.
enum Mode {
    /// No access entries: the signers allowed (all when `None`) are cluster admins named by their
    /// access key id.
    Signers(Option<BTreeSet<String>>),
    AccessEntries {
        source: Arc<dyn AccessEntrySource>,
        /// Access key id → the ARN STS returns for it.
        caller_arns: HashMap<String, String>,
    },
}

pub struct Auth {
    cluster_name: String,
    verifier: TokenVerifier,
    mode: Mode,
}

/// Why a request may go ahead, or why not.
enum Decision {
    Allowed { by: String },
    Denied { reason: String },
}

impl Auth {
    /// Today's rule: `authorized` signers (every valid one when `None`) may do everything.
    pub fn signers(cluster_name: &str, verifier: TokenVerifier, authorized: Option<BTreeSet<String>>) -> Self {
        Self {
            cluster_name: cluster_name.to_string(),
            verifier,
            mode: Mode::Signers(authorized),
        }
    }

    /// EKS access entries: `caller_arns` maps access key ids to the ARN STS would return.
    pub fn access_entries(
        cluster_name: &str,
        verifier: TokenVerifier,
        source: Arc<dyn AccessEntrySource>,
        caller_arns: HashMap<String, String>,
    ) -> Self {
        Self {
            cluster_name: cluster_name.to_string(),
            verifier,
            mode: Mode::AccessEntries { source, caller_arns },
        }
    }

    /// The user behind `Authorization: Bearer <token>`, or 401.
    pub fn authenticate(&self, headers: &HeaderMap) -> Result<User, ApiError> {
        let token = headers
            .get(http::header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.strip_prefix("Bearer ").map(str::trim))
            .ok_or(TokenError::Missing);
        let caller = token
            .and_then(|token| self.verifier.verify(token, SystemTime::now()))
            .map_err(|error| {
                tracing::info!(%error, "rejected a bearer token");
                unauthorized(error.to_string())
            })?;
        let key = caller.access_key_id;
        match &self.mode {
            Mode::Signers(authorized) => {
                let admin = authorized.as_ref().is_none_or(|keys| keys.contains(&key));
                Ok(User {
                    subject: Subject {
                        name: key,
                        groups: vec![AUTHENTICATED_GROUP.into()],
                    },
                    policies: if admin {
                        vec![AccessPolicy::cluster_admin()]
                    } else {
                        vec![]
                    },
                })
            }
            Mode::AccessEntries { source, caller_arns } => {
                let arn = caller_arns.get(&key).ok_or_else(|| {
                    tracing::info!(access_key = key, "no caller ARN configured for the access key");
                    unauthorized(format!("the fake has no caller ARN for access key {key}"))
                })?;
                let caller = CallerIdentity {
                    arn: arn.clone(),
                    access_key_id: key,
                };
                let access = source.resolve(&self.cluster_name, &caller.arn).ok_or_else(|| {
                    let principal = principal_of(&caller.arn);
                    tracing::info!(principal, cluster = self.cluster_name, "no access entry: 401");
                    unauthorized(format!(
                        "no access entry for {principal} in cluster {}",
                        self.cluster_name
                    ))
                })?;
                let mut groups = access.kubernetes_groups.clone();
                groups.push(AUTHENTICATED_GROUP.into());
                Ok(User {
                    subject: Subject {
                        name: caller.username(&access),
                        groups,
                    },
                    policies: access.policies,
                })
            }
        }
    }

    /// 403 unless `user` may make `request`; logs the decision.
    pub fn authorize(&self, user: &User, request: &Attributes, store: &Store) -> Result<(), ApiError> {
        match decide(user, request, store) {
            Decision::Allowed { by } => {
                tracing::debug!(
                    user = user.subject.name,
                    verb = request.verb,
                    resource = request.full_resource(),
                    namespace = request.namespace,
                    name = request.name,
                    by,
                    "allowed"
                );
                Ok(())
            }
            Decision::Denied { reason } => {
                tracing::info!(
                    user = user.subject.name,
                    groups = ?user.subject.groups,
                    verb = request.verb,
                    resource = request.full_resource(),
                    namespace = request.namespace,
                    name = request.name,
                    reason,
                    "forbidden"
                );
                Err(forbidden(&user.subject.name, request, &reason))
            }
        }
    }

    /// Whether `user` may make `request`, without logging (for the `bind`/`escalate` probes).
    pub fn allows(&self, user: &User, request: &Attributes, store: &Store) -> bool {
        matches!(decide(user, request, store), Decision::Allowed { .. })
    }
}

/// The EKS authorizer (access policies at their scope) first, then RBAC.
fn decide(user: &User, request: &Attributes, store: &Store) -> Decision {
    for policy in user.policies.iter().filter(|p| p.scope.applies_to(request)) {
        match policies::rules(&policy.name) {
            Some(rules) if rules.iter().any(|rule| rule.allows(request)) => {
                return Decision::Allowed {
                    by: format!("access policy {}", policy.name),
                };
            }
            Some(_) => {}
            None => tracing::warn!(policy = policy.name, "unknown access policy: it grants nothing"),
        }
    }
    let resolution = rbac::rules_for(store, &user.subject, &request.namespace);
    if let Some(grant) = resolution
        .grants
        .iter()
        .find(|grant| grant.rules.iter().any(|rule| rule.allows(request)))
    {
        return Decision::Allowed { by: grant.via.clone() };
    }
    let reason = match resolution.errors.as_slice() {
        [] => String::new(),
        [one] => format!("RBAC: {one}"),
        many => format!("RBAC: [{}]", many.join(", ")),
    };
    Decision::Denied { reason }
}

fn unauthorized(detail: String) -> ApiError {
    ApiError::new(Reason::Unauthorized, format!("Unauthorized: {detail}"))
}

/// The API server's `forbiddenMessage`: `User "u" cannot get resource "pods/log" in API group ""
/// in the namespace "ns"`, plus the authorizer's reason when it gave one.
fn forbidden(username: &str, request: &Attributes, reason: &str) -> ApiError {
    let scope = if request.namespace.is_empty() {
        "at the cluster scope".to_string()
    } else {
        format!("in the namespace {:?}", request.namespace)
    };
    let mut detail = format!(
        "User {username:?} cannot {} resource {:?} in API group {:?} {scope}",
        request.verb,
        request.full_resource(),
        request.group
    );
    if !reason.is_empty() {
        detail = format!("{detail}: {reason}");
    }
    ApiError::forbidden(request.group, request.resource, &request.name, detail)
}
