//! The Kubernetes half of a plan. `prepare` lists the objects from the input (`ensure`), since its
//! role cannot read the cluster; the `storage-class` function's `plan` action, which runs as the
//! workflow's cluster role, then reads each one and says create, reuse, adopt or refuse, the way
//! the steps will decide. It only reads (`get`). A cluster the workflow cannot read yet (no access
//! entry or RBAC of ours: the run creates them) keeps `ensure`, with that reason.

use super::{Action, Plan, Planned};
use crate::clients::AwsClients;
use crate::error::{Result, WorkflowError};
use crate::input::ProvisionRequest;
use crate::k8s::Kube;
use crate::ledger::{Ledger, Place, Record};
use crate::ownership::Owner;
use crate::poll::Poll;
use crate::resources::Kind;
use crate::resources::collector;
use crate::resources::kube_object::is_recorded;
use crate::resources::logging;
use crate::resources::storage_objects as storage;
use crate::resources::workload::manifests;
use crate::resources::{namespace, rbac};
use crate::rules;
use crate::settings::Settings;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace, PersistentVolume, PersistentVolumeClaim, Pod};
use k8s_openapi::api::rbac::v1::RoleBinding;
use k8s_openapi::api::storage::v1::{CSIDriver, StorageClass};
use kube::Resource;
use kube::api::Api;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::json;

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
    let ledger = Ledger::of(&clients.dynamodb, settings)?;
    let plan = read(&kube, &ledger, plan).await?;
    let undecided = plan.resources.iter().filter(|r| r.action == Action::Ensure).count();
    let detail = match undecided {
        0 => "every Kubernetes object read".to_string(),
        n => format!("{n} Kubernetes objects not read: the workflow cannot read the cluster yet"),
    };
    Ok(Poll::ready(0, detail, plan))
}

/// Decides every `ensure` item of `plan` from what the cluster holds and the ledger records.
pub async fn read(kube: &Kube, ledger: &Ledger, mut plan: Plan) -> Result<Plan> {
    let owner = Owner::new(&plan.cluster_name, &plan.namespace);
    for index in 0..plan.resources.len() {
        if plan.resources[index].action != Action::Ensure {
            continue;
        }
        let found = match look_up(kube, ledger, &owner, &plan.resources[index]).await {
            Ok(found) => found,
            Err(WorkflowError::ClusterAuthFailed { code, .. }) => {
                not_readable(&mut plan, code);
                return Ok(plan);
            }
            Err(other) => return Err(other),
        };
        let item = plan.resources[index].clone();
        let mut decided = decide(item, found, &owner, plan.adopts_namespace);
        if decided.kind == Kind::Namespace && decided.action == Action::Adopt {
            decided = adoptable(kube, &owner, decided).await?;
        }
        plan.resources[index] = decided;
    }
    Ok(plan)
}

/// An adopted namespace without the workflow's label is refused, as the step refuses it.
async fn adoptable(kube: &Kube, owner: &Owner, item: Planned) -> Result<Planned> {
    let found = kube.get(&kube.all::<Namespace>(), &owner.namespace).await?;
    if namespace::admits_workflow(found.as_ref()) {
        return Ok(item);
    }
    Ok(Planned {
        action: Action::Refuse,
        reason: Some(conflict(namespace::not_admitted(&owner.cluster, &owner.namespace))),
        ..item
    })
}

fn not_readable(plan: &mut Plan, code: u16) {
    let why = format!(
        "not read: the cluster's API refused the workflow (HTTP {code}), which has no access entry or RBAC there until the run creates them; created unless the workflow's exists"
    );
    for item in plan.resources.iter_mut().filter(|r| r.action == Action::Ensure) {
        item.reason = Some(why.clone());
    }
}

/// What the cluster holds under the item's name: `None` when nothing; else whether the ledger
/// records it as the workflow's.
async fn look_up(kube: &Kube, ledger: &Ledger, owner: &Owner, item: &Planned) -> Result<Option<bool>> {
    let (namespace, name) = match item.name.split_once('/') {
        Some((namespace, name)) => (Some(namespace), name),
        None => (None, item.name.as_str()),
    };
    let place = if item.kind.is_shared_kubernetes() {
        Place::Cluster(&owner.cluster)
    } else {
        owner.place()
    };
    let record = ledger.get(place, item.kind, name).await?;
    let namespaced = || namespace.unwrap_or(logging::NAMESPACE);
    let record = record.as_ref();
    match item.kind {
        Kind::Namespace => found(kube, kube.all::<Namespace>(), name, record).await,
        Kind::CsiDriver => found(kube, kube.all::<CSIDriver>(), name, record).await,
        Kind::StorageClass => found(kube, kube.all::<StorageClass>(), name, record).await,
        Kind::PersistentVolume => found(kube, kube.all::<PersistentVolume>(), name, record).await,
        Kind::LoggingConfig => found(kube, kube.namespaced::<ConfigMap>(namespaced()), name, record).await,
        Kind::PersistentVolumeClaim => {
            found(
                kube,
                kube.namespaced::<PersistentVolumeClaim>(namespaced()),
                name,
                record,
            )
            .await
        }
        Kind::Pod => found(kube, kube.namespaced::<Pod>(namespaced()), name, record).await,
        Kind::Collector => found(kube, kube.namespaced::<Deployment>(namespaced()), name, record).await,
        Kind::NamespaceAccess => found(kube, kube.namespaced::<RoleBinding>(namespaced()), name, record).await,
        _ => Ok(None),
    }
}

async fn found<K>(kube: &Kube, api: Api<K>, name: &str, record: Option<&Record>) -> Result<Option<bool>>
where
    K: Resource<DynamicType = ()> + Clone + DeserializeOwned + std::fmt::Debug,
{
    Ok(kube
        .get(&api, name)
        .await?
        .map(|object| record.is_some_and(|r| is_recorded(r, &object))))
}

/// What the steps will do with `item`: not found (`None`), found and recorded (`Some(true)`), or
/// found and not recorded.
fn decide(item: Planned, found: Option<bool>, owner: &Owner, adopts_namespace: bool) -> Planned {
    let Some(recorded) = found else {
        return Planned {
            action: Action::Create,
            ..item
        };
    };
    let (action, reason) = match item.kind {
        Kind::CsiDriver | Kind::StorageClass | Kind::LoggingConfig if recorded => (
            Action::Reuse,
            "the workflow's, shared by its namespaces on the cluster".to_string(),
        ),
        Kind::CsiDriver | Kind::StorageClass | Kind::LoggingConfig => (
            Action::Reuse,
            "not the workflow's: used as it is, never changed or deleted".to_string(),
        ),
        _ if recorded => (Action::Reuse, "the workflow's (its ledger records it)".to_string()),
        Kind::Namespace if adopts_namespace => (
            Action::Adopt,
            "not recorded as the workflow's: used as it is (adopt), never deleted".to_string(),
        ),
        Kind::Namespace => (
            Action::Refuse,
            conflict(WorkflowError::NamespaceConflict {
                cluster: owner.cluster.clone(),
                namespace: owner.namespace.clone(),
            }),
        ),
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
        Planned::new(Kind::NamespaceAccess, format!("{namespace}/{}", rbac::NAME), Action::Ensure)
            .settings(json!({"roleRef": rbac::NAMESPACE_ROLE, "group": rbac::GROUP}))
            .reason("the workflow's rights in the namespace: a RoleBinding created with it"),
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
                format!("{}/{}", collector::NAMESPACE, collector::COLLECTOR),
                Action::Ensure,
            )
            .settings(json!({
                "image": settings.insights.collector_image,
                "namespace": collector::NAMESPACE,
                "fargateProfile": collector::profile::PROFILE,
                "serviceAccount": collector::SERVICE_ACCOUNT,
                "clusterRoleBinding": collector::COLLECTOR,
                "logGroup": settings.insights.log_group,
                "metricNamespace": collector::config::METRIC_NAMESPACE,
                "reports": [namespace],
            }))
            .reason(
                "one collector per cluster, in its own namespace, reporting the namespaces provisioned with Container Insights; removed with the cluster's last namespace",
            ),
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
