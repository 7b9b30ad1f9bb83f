//! The Kubernetes side of the workflow (epic01 namespace, epic03–epic06): small steps on one
//! cluster's API, each idempotent. Objects the workflow creates are recorded in the ledger by uid
//! (`resources::kube_object`), carry [`crate::ownership::Owner::labels`] for people, and are written
//! by server-side apply with [`FIELD_MANAGER`]; shared objects it may find already there (namespace,
//! CSIDriver, StorageClass, Fargate's logging namespace and ConfigMap) are only created when
//! missing, and never changed.

pub mod logging;
pub mod manifests;
pub mod namespace;
pub mod poc_app;
pub mod pod_status;
pub mod rbac;
pub mod storage;
pub mod validate;
mod volumes;

use crate::aws;
use crate::clients::AwsClients;
use crate::error::{Result, WorkflowError};
use crate::input::rules;
use crate::kube_client;
use crate::run::Run;
use crate::settings::Settings;
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams, PostParams};
use kube::{Resource, ResourceExt};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::fmt::Debug;

/// The field manager of every write, so `kubectl` shows which fields the workflow set.
pub const FIELD_MANAGER: &str = "efs-fargate-workflow";

/// The event of a Kubernetes step: `{"action", "run", "fileSystemId", "accessPointId", "attempt"}`.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct KubeStepEvent<A> {
    pub action: A,
    pub run: Run,
    /// The file system the `efs` step created or found (its `fileSystemId` output).
    pub file_system_id: String,
    /// The namespace's access point on it (the `efs` step's `accessPoint.accessPointId`): every
    /// volume mounts through it.
    pub access_point_id: String,
    /// How many polls came before this one (the state machine passes the last `attempt`).
    #[serde(default)]
    pub attempt: u32,
}

impl<A> KubeStepEvent<A> {
    pub fn validate(&self) -> Result<()> {
        self.run.validate()?;
        rules::file_system_id("fileSystemId", &self.file_system_id)?;
        rules::access_point_id("accessPointId", &self.access_point_id)
    }

    /// The EFS volume the step's pods mount.
    pub fn volume(&self) -> EfsVolume<'_> {
        EfsVolume {
            file_system_id: &self.file_system_id,
            access_point_id: &self.access_point_id,
        }
    }
}

/// A file system seen through the namespace's access point.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EfsVolume<'a> {
    pub file_system_id: &'a str,
    pub access_point_id: &'a str,
}

impl EfsVolume<'_> {
    /// `fs-…::fsap-…`: the plain form Fargate accepts (it rejects the `efs:` prefix).
    pub fn handle(&self) -> String {
        format!("{}::{}", self.file_system_id, self.access_point_id)
    }
}

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
            client: kube_client::connect(clients, settings, cluster).await?,
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
