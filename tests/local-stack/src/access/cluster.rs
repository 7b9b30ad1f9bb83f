//! The cluster calls that carry `accessConfig`, which moto ignores: `CreateCluster` (the mode and
//! the creator's admin entry are recorded), `DescribeCluster` (the mode is reported),
//! `DeleteCluster` (the entries go with the cluster) and `UpdateClusterConfig` with an
//! `accessConfig` (answered here: moto cannot change what it does not have). A CreateCluster is
//! also announced on the event bus, when the gateway has one. Every cluster answer carries the
//! cluster's fake API server, when one is registered (`kube_apis.rs`).

use axum::response::Response;
use bytes::Bytes;
use serde_json::{Value, json};

use super::entry::NewEntry;
use super::error::AccessError;
use super::model::{AccessConfig, AuthenticationMode};
use super::moto::{self, Failure};
use super::principal::Caller;
use super::route::ClusterCall;
use super::serve::parse;
use super::store::ClusterRef;
use super::{now, ok};
use crate::events::{ApiCall, EventBus, Outcome, cloudtrail_event};
use crate::gateway::Shared;
use crate::ids::uuid;
use crate::reply::Reply;

/// `UpdateClusterConfig` takes one kind of change per call; these are the others.
const OTHER_UPDATES: [&str; 4] = [
    "resourcesVpcConfig",
    "logging",
    "kubernetesNetworkConfig",
    "remoteNetworkConfig",
];

pub(crate) async fn serve(
    shared: &Shared,
    call: ClusterCall,
    parts: http::request::Parts,
    body: Bytes,
) -> Result<Response, Failure> {
    let store = &shared.access;
    match call {
        ClusterCall::Create => {
            let request: Value = parse(&body)?;
            let caller = parts.clone();
            let created = create(shared, parts, body, &request).await;
            if let Some(bus) = &shared.events {
                announce(shared, bus, &caller, request, &created).await;
            }
            created.map(Reply::into_response)
        }
        ClusterCall::Describe { .. } => proxied(shared, parts, body, |cluster| store.config(cluster))
            .await
            .map(Reply::into_response),
        ClusterCall::Delete { cluster } => proxied(shared, parts, body, |deleted| {
            let config = store.config(deleted);
            store.forget(&cluster);
            config
        })
        .await
        .map(Reply::into_response),
        ClusterCall::UpdateConfig { cluster } => {
            let request: Value = parse(&body)?;
            let Some(mode) = request.get("accessConfig").map(|c| &c["authenticationMode"]) else {
                return proxied(shared, parts, body, |cluster| store.config(cluster))
                    .await
                    .map(Reply::into_response);
            };
            if OTHER_UPDATES.iter().any(|key| request.get(*key).is_some()) {
                return Err(AccessError::InvalidParameter("Only one type of update can be allowed.".into()).into());
            }
            let mode = mode_of(mode)?.ok_or_else(|| {
                AccessError::InvalidParameter("accessConfig must specify an authenticationMode".into())
            })?;
            let described = moto::cluster(&shared.upstream, &parts, &cluster).await?;
            store.set_mode(&described, mode)?;
            // The change is applied at once, as moto applies everything: the update is already over.
            Ok(ok(&json!({
                "update": {
                    "id": uuid(),
                    "status": "Successful",
                    "type": "AccessConfigUpdate",
                    "params": [{ "type": "AuthenticationMode", "value": mode.as_str() }],
                    "createdAt": now(),
                    "errors": [],
                }
            })))
        }
    }
}

async fn create(shared: &Shared, parts: http::request::Parts, body: Bytes, request: &Value) -> Result<Reply, Failure> {
    let (config, creator) = requested_access(shared, &parts, &request["accessConfig"]).await?;
    proxied(shared, parts, body, |cluster| {
        shared.access.created(cluster, config, creator);
        config
    })
    .await
}

/// Puts the CloudTrail event of a CreateCluster on the bus, answered or refused, as EKS's calls
/// reach EventBridge. A call the gateway could not get answered at all is not one EKS would log.
async fn announce(
    shared: &Shared,
    bus: &EventBus,
    caller: &http::request::Parts,
    request: Value,
    created: &Result<Reply, Failure>,
) {
    let outcome = match created {
        Ok(reply) => match reply.json() {
            Some(answer) => Outcome::Answered(answer),
            None => {
                let body: Value = serde_json::from_slice(&reply.body).unwrap_or_default();
                Outcome::Refused {
                    code: reply
                        .headers
                        .get("x-amzn-errortype")
                        .and_then(|v| v.to_str().ok())
                        .map_or_else(
                            || reply.status.to_string(),
                            |code| code.split(':').next().unwrap_or(code).to_string(),
                        ),
                    message: body["message"].as_str().unwrap_or_default().to_string(),
                }
            }
        },
        Err(Failure::Access(error)) => Outcome::Refused {
            code: error.code().to_string(),
            message: error.to_string(),
        },
        Err(Failure::Moto(_)) => return,
    };
    // Who called is for the record only: the event goes out without it if STS cannot say.
    let caller_arn = moto::caller_arn(&shared.upstream, caller).await.ok();
    let call = ApiCall {
        service: "eks",
        operation: "CreateCluster",
        request,
        outcome,
        caller_arn,
    };
    bus.put(cloudtrail_event(call, &caller.headers, bus.account(), bus.region()));
}

/// The `accessConfig` of a CreateCluster with EKS's API defaults (CONFIG_MAP, bootstrap true),
/// and the caller's admin entry when the cluster will have access entries and bootstrap is on.
/// Asked before moto creates anything, so a refusal leaves no cluster behind.
async fn requested_access(
    shared: &Shared,
    parts: &http::request::Parts,
    requested: &Value,
) -> Result<(AccessConfig, Option<NewEntry>), Failure> {
    let mode = mode_of(&requested["authenticationMode"])?.unwrap_or(AuthenticationMode::ConfigMap);
    let bootstrap = match &requested["bootstrapClusterCreatorAdminPermissions"] {
        Value::Null => true,
        Value::Bool(bootstrap) => *bootstrap,
        other => {
            return Err(AccessError::InvalidParameter(format!(
                "bootstrapClusterCreatorAdminPermissions must be a boolean, got {other}"
            ))
            .into());
        }
    };
    if mode == AuthenticationMode::ConfigMap && !bootstrap {
        return Err(AccessError::BootstrapRequired.into());
    }
    let config = AccessConfig {
        authentication_mode: mode,
        bootstrap_cluster_creator_admin_permissions: Some(bootstrap),
    };
    if !(bootstrap && mode.has_access_entries()) {
        return Ok((config, None));
    }
    let caller = Caller::from_arn(&moto::caller_arn(&shared.upstream, parts).await?);
    let creator = NewEntry::validate(&caller.principal_arn, None, None, vec![], Default::default(), None)?;
    Ok((config, Some(creator)))
}

fn mode_of(value: &Value) -> Result<Option<AuthenticationMode>, AccessError> {
    match value {
        Value::Null => Ok(None),
        Value::String(text) => AuthenticationMode::parse(text).map(Some).ok_or_else(|| {
            AccessError::InvalidParameter(format!(
                "Invalid authenticationMode {text}: expected one of API, API_AND_CONFIG_MAP, CONFIG_MAP"
            ))
        }),
        other => Err(AccessError::InvalidParameter(format!(
            "authenticationMode must be a string, got {other}"
        ))),
    }
}

/// Sends the request to moto and, when it succeeds, runs `record` on the cluster it answers with
/// and adds the `accessConfig` that returns to the answer.
async fn proxied(
    shared: &Shared,
    parts: http::request::Parts,
    body: Bytes,
    record: impl FnOnce(&ClusterRef) -> AccessConfig,
) -> Result<Reply, Failure> {
    let mut reply = shared
        .upstream
        .send(parts, body)
        .await
        .map_err(|e| Failure::Moto(e.to_string()))?;
    shared.stats.proxied(Some("eks"));
    if let Some(mut answer) = reply.json()
        && let Some(cluster) = ClusterRef::from_answer(&answer)
    {
        let config = record(&cluster);
        let mut access = json!({ "authenticationMode": config.authentication_mode.as_str() });
        if let Some(bootstrap) = config.bootstrap_cluster_creator_admin_permissions {
            access["bootstrapClusterCreatorAdminPermissions"] = json!(bootstrap);
        }
        answer["cluster"]["accessConfig"] = access;
        shared.kube_apis.describe(&mut answer);
        reply.set_json(&answer);
    }
    Ok(reply)
}
