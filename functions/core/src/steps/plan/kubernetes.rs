//! The Kubernetes half of a plan. `prepare` lists the objects from the input (`ensure`), since its
//! role cannot read the cluster; the `storage-class` function's `plan` action, which runs as the
//! workflow's cluster role, then reads each one and says create, reuse, adopt or refuse, the way
//! the steps will decide. It only reads (`get`). A cluster the workflow cannot read yet (no access
//! entry or RBAC of ours: the run creates them) keeps `ensure`, with that reason.

use super::{Action, Kind, Plan, Planned};
use crate::clients::AwsClients;
use crate::error::{Result, WorkflowError};
use crate::input::{ProvisionRequest, rules};
use crate::ownership::Owner;
use crate::poll::Poll;
use crate::settings::Settings;
use crate::steps::insights;
use crate::steps::k8s::{Kube, logging, manifests, storage};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace, PersistentVolume, PersistentVolumeClaim, Pod};
use k8s_openapi::api::storage::v1::{CSIDriver, StorageClass};
use kube::Resource;
use kube::api::Api;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::BTreeMap;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum PlanAction {
    Plan,
}

/// `{"action": "plan", "plan": <prepare's plan>}`.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct KubernetesPlanEvent {
    pub action: PlanAction,
    pub plan: Plan,
}

/// The `storage-class` function's `plan` action: `plan` with its Kubernetes objects read.
pub async fn handle(clients: &AwsClients, settings: &Settings, event: KubernetesPlanEvent) -> Result<Poll<Plan>> {
    let plan = event.plan;
    rules::cluster_name("plan.clusterName", &plan.cluster_name)?;
    rules::namespace("plan.namespace", &plan.namespace)?;
    let kube = Kube::connect(clients, settings, &plan.cluster_name).await?;
    let plan = read(&kube, plan).await?;
    let undecided = plan.resources.iter().filter(|r| r.action == Action::Ensure).count();
    let detail = match undecided {
        0 => "every Kubernetes object read".to_string(),
        n => format!("{n} Kubernetes objects not read: the workflow cannot read the cluster yet"),
    };
    Ok(Poll::ready(0, detail, plan))
}

/// Decides every `ensure` item of `plan` from what the cluster holds.
pub async fn read(kube: &Kube, mut plan: Plan) -> Result<Plan> {
    let owner = Owner::new(&plan.cluster_name, &plan.namespace);
    for index in 0..plan.resources.len() {
        if plan.resources[index].action != Action::Ensure {
            continue;
        }
        let found = match labels_of(kube, &plan.resources[index]).await {
            Ok(found) => found,
            Err(WorkflowError::ClusterAuthFailed { code, .. }) => {
                not_readable(&mut plan, code);
                return Ok(plan);
            }
            Err(other) => return Err(other),
        };
        let item = plan.resources[index].clone();
        plan.resources[index] = decide(item, found.as_ref(), &owner, plan.adopts_namespace);
    }
    Ok(plan)
}

fn not_readable(plan: &mut Plan, code: u16) {
    let why = format!(
        "not read: the cluster's API refused the workflow (HTTP {code}), which has no access entry or RBAC there until the run creates them; created unless the workflow's exists"
    );
    for item in plan.resources.iter_mut().filter(|r| r.action == Action::Ensure) {
        item.reason = Some(why.clone());
    }
}

/// The object's labels if it exists (empty when it has none).
async fn labels_of(kube: &Kube, item: &Planned) -> Result<Option<BTreeMap<String, String>>> {
    let (namespace, name) = match item.name.split_once('/') {
        Some((namespace, name)) => (Some(namespace), name),
        None => (None, item.name.as_str()),
    };
    let namespaced = || namespace.unwrap_or(logging::NAMESPACE);
    match item.kind {
        Kind::Namespace => found(kube, kube.all::<Namespace>(), name).await,
        Kind::CsiDriver => found(kube, kube.all::<CSIDriver>(), name).await,
        Kind::StorageClass => found(kube, kube.all::<StorageClass>(), name).await,
        Kind::PersistentVolume => found(kube, kube.all::<PersistentVolume>(), name).await,
        Kind::LoggingConfig => found(kube, kube.namespaced::<ConfigMap>(namespaced()), name).await,
        Kind::PersistentVolumeClaim => found(kube, kube.namespaced::<PersistentVolumeClaim>(namespaced()), name).await,
        Kind::Pod => found(kube, kube.namespaced::<Pod>(namespaced()), name).await,
        Kind::Collector => found(kube, kube.namespaced::<Deployment>(namespaced()), name).await,
        _ => Ok(None),
    }
}

async fn found<K>(kube: &Kube, api: Api<K>, name: &str) -> Result<Option<BTreeMap<String, String>>>
where
    K: Resource<DynamicType = ()> + Clone + DeserializeOwned + std::fmt::Debug,
{
    Ok(kube
        .get(&api, name)
        .await?
        .map(|object| object.meta().labels.clone().unwrap_or_default()))
}

/// What the steps will do with `item`, found with `labels` (or not found).
fn decide(item: Planned, labels: Option<&BTreeMap<String, String>>, owner: &Owner, adopts_namespace: bool) -> Planned {
    let Some(labels) = labels else {
        return Planned {
            action: Action::Create,
            ..item
        };
    };
    let (action, reason) = match item.kind {
        Kind::Namespace if owner.owns_labels(Some(labels)) => (Action::Reuse, "the workflow's".to_string()),
        Kind::Namespace if adopts_namespace => (
            Action::Adopt,
            "exists without the workflow's labels: used as it is (adopt), never deleted".to_string(),
        ),
        Kind::Namespace => (
            Action::Refuse,
            conflict(WorkflowError::NamespaceConflict {
                cluster: owner.cluster.clone(),
                namespace: owner.namespace.clone(),
            }),
        ),
        Kind::CsiDriver | Kind::StorageClass | Kind::LoggingConfig if owner.created_on_cluster(Some(labels)) => (
            Action::Reuse,
            "the workflow's, shared by its namespaces on the cluster".to_string(),
        ),
        Kind::CsiDriver | Kind::StorageClass | Kind::LoggingConfig => (
            Action::Reuse,
            "not the workflow's: used as it is, never changed or deleted".to_string(),
        ),
        _ if owner.owns_labels(Some(labels)) => (Action::Reuse, "the workflow's".to_string()),
        _ => (
            Action::Refuse,
            conflict(WorkflowError::KubernetesObjectConflict {
                object: item.name.clone(),
            }),
        ),
    };
    Planned {
        action,
        reason: Some(reason),
        ..item
    }
}

fn conflict(error: WorkflowError) -> String {
    format!("{}: {error}", error.error_type())
}

/// The Kubernetes objects the run makes, from the input alone: `ensure` until [`read`] looks.
pub(super) fn from_input(request: &ProvisionRequest, settings: &Settings) -> Vec<Planned> {
    let namespace = request.namespace.as_str();
    let shared = "shared by the cluster's namespaces: created only when missing, never changed";
    let mut items = vec![
        Planned::new(Kind::CsiDriver, storage::CSI_DRIVER, Action::Ensure)
            .settings(json!({"attachRequired": false}))
            .reason(shared),
        Planned::new(Kind::StorageClass, storage::STORAGE_CLASS, Action::Ensure)
            .settings(json!({"provisioner": storage::CSI_DRIVER}))
            .reason(shared),
        Planned::new(
            Kind::LoggingConfig,
            format!("{}/{}", logging::NAMESPACE, logging::CONFIG_MAP),
            Action::Ensure,
        )
        .settings(json!({"logGroup": settings.fargate_log_group, "streamPrefix": logging::stream_prefix(&request.cluster_name)}))
        .reason(shared),
    ];
    if request.monitoring.container_insights {
        items.push(
            Planned::new(
                Kind::Collector,
                format!("{namespace}/{}", insights::COLLECTOR),
                Action::Ensure,
            )
            .settings(json!({
                "image": settings.insights.collector_image,
                "serviceAccount": insights::SERVICE_ACCOUNT,
                "clusterRoleBinding": insights::objects::binding_name(namespace),
                "logGroup": settings.insights.log_group,
                "metricNamespace": insights::collector::METRIC_NAMESPACE,
            })),
        );
    }
    if request.deploy_poc_app {
        let volume = |names: manifests::VolumeNames| {
            [
                Planned::new(Kind::PersistentVolume, names.volume_name(namespace), Action::Ensure).settings(json!({
                    "volumeHandle": "<file system id>",
                    "encryptInTransit": request.encryption.in_transit,
                    "reclaimPolicy": "Retain",
                })),
                Planned::new(
                    Kind::PersistentVolumeClaim,
                    format!("{namespace}/{}", names.claim),
                    Action::Ensure,
                ),
            ]
        };
        items.extend(volume(manifests::APP));
        items.extend(
            manifests::APP_PODS
                .iter()
                .map(|pod| Planned::new(Kind::Pod, format!("{namespace}/{pod}"), Action::Ensure)),
        );
        items.extend(
            volume(manifests::VALIDATION)
                .into_iter()
                .map(|item| item.reason("created by the validation after the app's objects are deleted")),
        );
        items.push(
            Planned::new(
                Kind::Pod,
                format!("{namespace}/{}", manifests::VALIDATION_POD),
                Action::Ensure,
            )
            .reason("created by the validation after the app's objects are deleted"),
        );
    }
    items
}
