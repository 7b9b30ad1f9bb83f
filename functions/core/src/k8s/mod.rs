//! The workflow's connection to one cluster's API: [`Kube`] (EKS token auth, see `client.rs`),
//! the object builders every kind shares, and why a pod or claim is not ready (`pod_status.rs`).
//! Knows nothing of steps or of the ledger; `resources` builds on it.

pub mod client;
mod manifest;
pub mod pod_status;

pub use manifest::{metadata, restricted};

use crate::aws;
use crate::clients::AwsClients;
use crate::error::{Result, WorkflowError};
use crate::settings::Settings;
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams, PostParams};
use kube::{Resource, ResourceExt};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::fmt::Debug;

/// The field manager of every write, so `kubectl` shows which fields the workflow set.
pub const FIELD_MANAGER: &str = "efs-fargate-workflow";

/// One cluster's API, with the cluster's name for error messages.
#[derive(Clone)]
pub struct Kube {
    pub client: kube::Client,
    pub cluster: String,
}

impl Kube {
    /// Connects to `cluster` as the workflow's IAM identity (a fresh token per invocation).
    pub async fn connect(clients: &AwsClients, settings: &Settings, cluster: &str) -> Result<Self> {
        let described = aws::eks::cluster(&clients.eks, cluster).await?;
        Self::connect_to(clients, settings, &described).await
    }

    pub async fn connect_to(
        clients: &AwsClients,
        settings: &Settings,
        cluster: &aws_sdk_eks::types::Cluster,
    ) -> Result<Self> {
        let name = cluster.name().unwrap_or_default().to_string();
        Ok(Self {
            client: client::connect(clients, settings, cluster).await?,
            cluster: name,
        })
    }

    pub fn all<K: Resource<Scope = k8s_openapi::ClusterResourceScope, DynamicType = ()>>(&self) -> Api<K> {
        Api::all(self.client.clone())
    }

    pub fn namespaced<K: Resource<Scope = k8s_openapi::NamespaceResourceScope, DynamicType = ()>>(
        &self,
        namespace: &str,
    ) -> Api<K> {
        Api::namespaced(self.client.clone(), namespace)
    }

    /// The object, or `None` when it does not exist.
    pub async fn get<K>(&self, api: &Api<K>, name: &str) -> Result<Option<K>>
    where
        K: Resource<DynamicType = ()> + Clone + DeserializeOwned + Debug,
    {
        api.get_opt(name)
            .await
            .map_err(|e| self.error(format!("get {} {name}", K::kind(&())), e))
    }

    pub async fn list<K>(&self, api: &Api<K>, params: &ListParams) -> Result<Vec<K>>
    where
        K: Resource<DynamicType = ()> + Clone + DeserializeOwned + Debug,
    {
        api.list(params)
            .await
            .map(|list| list.items)
            .map_err(|e| self.error(format!("list {}", K::kind(&())), e))
    }

    /// Server-side apply of an object the workflow owns.
    pub async fn apply<K>(&self, api: &Api<K>, object: &K) -> Result<K>
    where
        K: Resource<DynamicType = ()> + Clone + DeserializeOwned + Serialize + Debug,
    {
        let name = object.name_any();
        api.patch(&name, &PatchParams::apply(FIELD_MANAGER).force(), &Patch::Apply(object))
            .await
            .map_err(|e| self.error(format!("apply {} {name}", K::kind(&())), e))
    }

    /// JSON merge patch of `name`; with `resource_version`, only while the object is still at that
    /// version (the API server's optimistic concurrency): `None` when it changed since.
    pub async fn merge_patch<K>(
        &self,
        api: &Api<K>,
        name: &str,
        resource_version: Option<&str>,
        mut patch: serde_json::Value,
    ) -> Result<Option<K>>
    where
        K: Resource<DynamicType = ()> + Clone + DeserializeOwned + Debug,
    {
        if let Some(version) = resource_version {
            patch["metadata"]["resourceVersion"] = version.into();
        }
        let params = PatchParams {
            field_manager: Some(FIELD_MANAGER.into()),
            ..PatchParams::default()
        };
        match api.patch(name, &params, &Patch::Merge(&patch)).await {
            Ok(patched) => Ok(Some(patched)),
            Err(kube::Error::Api(status)) if status.code == 409 && resource_version.is_some() => Ok(None),
            Err(e) => Err(self.error(format!("patch {} {name}", K::kind(&())), e)),
        }
    }

    /// Creates the object unless one of that name exists; `true` when this call created it.
    pub async fn create_if_missing<K>(&self, api: &Api<K>, object: &K) -> Result<bool>
    where
        K: Resource<DynamicType = ()> + Clone + DeserializeOwned + Serialize + Debug,
    {
        let params = PostParams {
            field_manager: Some(FIELD_MANAGER.into()),
            ..PostParams::default()
        };
        match api.create(&params, object).await {
            Ok(_) => Ok(true),
            Err(kube::Error::Api(status)) if status.code == 409 => Ok(false),
            Err(e) => Err(self.error(format!("create {} {}", K::kind(&()), object.name_any()), e)),
        }
    }

    /// Requests deletion; `false` when the object was already gone.
    pub async fn delete<K>(&self, api: &Api<K>, name: &str) -> Result<bool>
    where
        K: Resource<DynamicType = ()> + Clone + DeserializeOwned + Debug,
    {
        match api.delete(name, &DeleteParams::background()).await {
            Ok(_) => Ok(true),
            Err(kube::Error::Api(status)) if status.code == 404 => Ok(false),
            Err(e) => Err(self.error(format!("delete {} {name}", K::kind(&())), e)),
        }
    }

    pub fn error(&self, operation: String, err: kube::Error) -> WorkflowError {
        WorkflowError::from_kube(&self.cluster, &operation, err)
    }
}

/// `kind/namespace/name` or `kind/name`, as cleanup and error messages name objects.
pub fn describe<K: Resource<DynamicType = ()>>(object: &K) -> String {
    let kind = K::kind(&()).to_lowercase();
    match object.meta().namespace.as_deref() {
        Some(namespace) => format!(
            "{kind}/{namespace}/{}",
            object.meta().name.as_deref().unwrap_or_default()
        ),
        None => format!("{kind}/{}", object.meta().name.as_deref().unwrap_or_default()),
    }
}
