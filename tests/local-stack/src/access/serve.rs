//! Answers the access-entry API, access-policy API and tag calls on access entries from the
//! store, after asking moto whether the cluster exists.

use std::collections::BTreeMap;

use axum::response::Response;
use bytes::Bytes;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use super::entry::{NewEntry, parse_scope};
use super::error::AccessError;
use super::moto::{self, Failure};
use super::pagination::paginate;
use super::route::{EntryCall, Operation, Page};
use super::{cluster, ok, policies};
use crate::gateway::Shared;

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct CreateRequest {
    principal_arn: Option<String>,
    kubernetes_groups: Vec<String>,
    username: Option<String>,
    r#type: Option<String>,
    tags: BTreeMap<String, String>,
    client_request_token: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct UpdateRequest {
    kubernetes_groups: Option<Vec<String>>,
    username: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct AssociateRequest {
    policy_arn: Option<String>,
    access_scope: ScopeRequest,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ScopeRequest {
    r#type: Option<String>,
    namespaces: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct TagRequest {
    tags: BTreeMap<String, String>,
}

/// Answers `operation`; every error in EKS's own shape.
pub(crate) async fn serve(shared: &Shared, operation: Operation, parts: http::request::Parts, body: Bytes) -> Response {
    let answered = match operation {
        Operation::Cluster(call) => cluster::serve(shared, call, parts, body).await,
        Operation::ListAccessPolicies { page } => list_access_policies(&page),
        Operation::Entry { cluster, call } => entries(shared, &cluster, call, &parts, &body).await,
    };
    answered.unwrap_or_else(|failure| failure.response())
}

fn list_access_policies(page: &Page) -> Result<Response, Failure> {
    let (names, next) = paginate(policies::MANAGED.to_vec(), |name| name, page)?;
    let listed: Vec<Value> = names
        .into_iter()
        .map(|name| json!({ "name": name, "arn": policies::arn("aws", name) }))
        .collect();
    Ok(ok(&json!({ "accessPolicies": listed, "nextToken": next })))
}

async fn entries(
    shared: &Shared,
    cluster_name: &str,
    call: EntryCall,
    parts: &http::request::Parts,
    body: &Bytes,
) -> Result<Response, Failure> {
    let store = &shared.access;
    let cluster = match moto::cluster(&shared.upstream, parts, cluster_name).await {
        Ok(cluster) => cluster,
        Err(Failure::Access(AccessError::ClusterNotFound(name))) => {
            // Deleted behind the gateway's back: nothing of it is kept.
            store.forget(&name);
            return Err(AccessError::ClusterNotFound(name).into());
        }
        Err(other) => return Err(other),
    };
    let name = cluster.name.as_str();
    let answer = match call {
        EntryCall::Create => {
            let request: CreateRequest = parse(body)?;
            let principal_arn = request
                .principal_arn
                .ok_or_else(|| AccessError::InvalidParameter("principalArn is required".into()))?;
            let new = NewEntry::validate(
                &principal_arn,
                request.r#type,
                request.username,
                request.kubernetes_groups,
                request.tags,
                request.client_request_token,
            )?;
            json!({ "accessEntry": store.create(&cluster, new)?.to_json() })
        }
        EntryCall::List {
            associated_policy_arn,
            page,
        } => {
            let principals = store.list(&cluster, associated_policy_arn.as_deref())?;
            let (listed, next) = paginate(principals, String::as_str, &page)?;
            json!({ "accessEntries": listed, "nextToken": next })
        }
        EntryCall::Describe { principal } => {
            json!({ "accessEntry": store.describe(&cluster, &principal)?.to_json() })
        }
        EntryCall::Update { principal } => {
            let request: UpdateRequest = parse(body)?;
            let entry = store.update(&cluster, &principal, request.kubernetes_groups, request.username)?;
            json!({ "accessEntry": entry.to_json() })
        }
        EntryCall::Delete { principal } => {
            store.delete(&cluster, &principal)?;
            json!({})
        }
        EntryCall::Associate { principal } => {
            let request: AssociateRequest = parse(body)?;
            let policy_arn = request.policy_arn.unwrap_or_default();
            if policies::name_of(&policy_arn).is_none() {
                return Err(AccessError::InvalidParameter(format!(
                    "The specified policyArn is invalid: {policy_arn} is not an Amazon EKS access policy"
                ))
                .into());
            }
            let scope = parse_scope(request.access_scope.r#type.as_deref(), request.access_scope.namespaces)?;
            let association = store.associate(&cluster, &principal, &policy_arn, scope)?;
            json!({
                "clusterName": name,
                "principalArn": principal,
                "associatedAccessPolicy": association.to_json(),
            })
        }
        EntryCall::ListAssociated { principal, page } => {
            let associations = store.associations(&cluster, &principal)?;
            let (listed, next) = paginate(associations, |a| a.policy_arn.as_str(), &page)?;
            let listed: Vec<Value> = listed.iter().map(|a| a.to_json()).collect();
            json!({
                "clusterName": name,
                "principalArn": principal,
                "nextToken": next,
                "associatedAccessPolicies": listed,
            })
        }
        EntryCall::Disassociate { principal, policy } => {
            store.disassociate(&cluster, &principal, &policy)?;
            json!({})
        }
        EntryCall::Tag { arn } => {
            let request: TagRequest = parse(body)?;
            store.tags(&cluster, &arn, |tags| tags.extend(request.tags))?;
            json!({})
        }
        EntryCall::Untag { arn, keys } => {
            store.tags(&cluster, &arn, |tags| tags.retain(|k, _| !keys.contains(k)))?;
            json!({})
        }
        EntryCall::ListTags { arn } => json!({ "tags": store.tags(&cluster, &arn, |_| {})? }),
    };
    Ok(ok(&answer))
}

/// A JSON request body (absent means `{}`).
pub(crate) fn parse<T: DeserializeOwned>(body: &Bytes) -> Result<T, AccessError> {
    let text: &[u8] = if body.is_empty() { b"{}" } else { body };
    serde_json::from_slice(text).map_err(|e| AccessError::InvalidParameter(format!("The request body is invalid: {e}")))
}
