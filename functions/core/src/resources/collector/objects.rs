//! The collector's Kubernetes objects: its namespace, and there its service account (with its IAM
//! role), configuration and Deployment; and the ClusterRoleBinding that lets its service account
//! read the nodes' cAdvisor through the API server: the reader ClusterRole it binds is installed
//! with the workflow's own RBAC (`resources::rbac`), which may bind that role and no other. Each is
//! labelled as its creator's; the configuration and the pod template are [`sync`](super::sync)'s.

use super::config::{CONFIG_DIR, CONFIG_FILE, HEALTH_PORT};
use super::{COLLECTOR, NAMESPACE, SERVICE_ACCOUNT};
use crate::k8s::{metadata, restricted};
use crate::resources::rbac::COLLECTOR_READER;
use crate::run::Run;
use k8s_openapi::api::apps::v1::{Deployment, DeploymentSpec};
use k8s_openapi::api::core::v1::{
    ConfigMap, ConfigMapVolumeSource, Container, ContainerPort, HTTPGetAction, Namespace, PodSecurityContext, PodSpec,
    PodTemplateSpec, Probe, ResourceRequirements, ServiceAccount, Volume, VolumeMount,
};
use k8s_openapi::api::rbac::v1::{ClusterRoleBinding, RoleRef, Subject};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use kube::api::ObjectMeta;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// The annotation IAM roles for service accounts reads.
pub const ROLE_ANNOTATION: &str = "eks.amazonaws.com/role-arn";
/// On the pod template: a changed configuration rolls the collector.
pub const CONFIG_HASH_ANNOTATION: &str = "efs-fargate-workflow/collector-config";
/// The user the collector image runs as; not root.
const COLLECTOR_UID: i64 = 10001;
/// On every object of the collector: cleanup and a run that turns the option off find them by it.
pub const COMPONENT: (&str, &str) = ("app.kubernetes.io/component", "container-insights");
/// The label the Deployment finds its pods by.
const SELECTOR: (&str, &str) = ("app.kubernetes.io/name", COLLECTOR);

/// Our ownership labels and [`COMPONENT`].
fn meta(run: &Run, name: &str, namespace: Option<&str>) -> ObjectMeta {
    let mut meta = metadata(run, name, namespace);
    meta.labels
        .get_or_insert_default()
        .insert(COMPONENT.0.into(), COMPONENT.1.into());
    meta
}

/// The collector's namespace: labelled as the workflow's, so the admission policy lets the
/// workflow write there; no tenant has rights in it.
pub fn namespace(run: &Run) -> Namespace {
    Namespace {
        metadata: meta(run, NAMESPACE, None),
        ..Namespace::default()
    }
}

pub fn service_account(run: &Run, role_arn: &str) -> ServiceAccount {
    let mut meta = meta(run, SERVICE_ACCOUNT, Some(NAMESPACE));
    meta.annotations = Some(BTreeMap::from([(ROLE_ANNOTATION.to_string(), role_arn.to_string())]));
    ServiceAccount {
        metadata: meta,
        ..ServiceAccount::default()
    }
}

/// The ConfigMap's data: the configuration, as the collector reads it.
pub fn config_data(config: &serde_json::Value) -> BTreeMap<String, String> {
    BTreeMap::from([(
        CONFIG_FILE.to_string(),
        serde_json::to_string_pretty(config).expect("JSON serializes"),
    )])
}

pub fn config_map(run: &Run, config: &serde_json::Value) -> ConfigMap {
    ConfigMap {
        metadata: meta(run, COLLECTOR, Some(NAMESPACE)),
        data: Some(config_data(config)),
        ..ConfigMap::default()
    }
}

/// Created without replicas: [`sync`](super::sync) sets them, with the configuration it wrote.
pub fn deployment(run: &Run, image: &str, config: &serde_json::Value) -> Deployment {
    let mut meta = meta(run, COLLECTOR, Some(NAMESPACE));
    meta.labels
        .get_or_insert_default()
        .insert(SELECTOR.0.into(), SELECTOR.1.into());
    Deployment {
        metadata: meta,
        spec: Some(DeploymentSpec {
            replicas: Some(0),
            selector: LabelSelector {
                match_labels: Some(BTreeMap::from([(SELECTOR.0.to_string(), SELECTOR.1.to_string())])),
                ..LabelSelector::default()
            },
            template: pod_template(image, config),
            ..DeploymentSpec::default()
        }),
        ..Deployment::default()
    }
}

/// What [`sync`](super::sync) writes to the Deployment: one replica while any namespace is
/// reported (none otherwise), and the pod template of the configuration it wrote (a changed
/// configuration rolls the collector).
pub fn deployment_patch(image: &str, config: &serde_json::Value, reporting: bool) -> serde_json::Value {
    serde_json::json!({"spec": {"replicas": i32::from(reporting), "template": pod_template(image, config)}})
}

fn pod_template(image: &str, config: &serde_json::Value) -> PodTemplateSpec {
    let labels = BTreeMap::from([
        (SELECTOR.0.to_string(), SELECTOR.1.to_string()),
        (COMPONENT.0.to_string(), COMPONENT.1.to_string()),
    ]);
    let hash: String = Sha256::digest(config.to_string())
        .iter()
        .take(8)
        .map(|b| format!("{b:02x}"))
        .collect();
    let quantity = |q: &str| Quantity(q.into());
    // Fargate sizes the pod from its requests: 0.25 vCPU and 0.5 GB, its smallest size.
    let resources = BTreeMap::from([
        ("cpu".to_string(), quantity("250m")),
        ("memory".to_string(), quantity("512Mi")),
    ]);
    let health = |path: &str| Probe {
        http_get: Some(HTTPGetAction {
            path: Some(path.into()),
            port: IntOrString::Int(HEALTH_PORT),
            ..HTTPGetAction::default()
        }),
        period_seconds: Some(30),
        ..Probe::default()
    };
    PodTemplateSpec {
        metadata: Some(ObjectMeta {
            labels: Some(labels),
            annotations: Some(BTreeMap::from([(CONFIG_HASH_ANNOTATION.to_string(), hash)])),
            ..ObjectMeta::default()
        }),
        spec: Some(PodSpec {
            service_account_name: Some(SERVICE_ACCOUNT.into()),
            security_context: Some(PodSecurityContext {
                run_as_user: Some(COLLECTOR_UID),
                run_as_group: Some(COLLECTOR_UID),
                run_as_non_root: Some(true),
                ..PodSecurityContext::default()
            }),
            containers: vec![Container {
                name: "collector".into(),
                image: Some(image.into()),
                args: Some(vec![format!("--config={CONFIG_DIR}/{CONFIG_FILE}")]),
                ports: Some(vec![ContainerPort {
                    name: Some("health".into()),
                    container_port: HEALTH_PORT,
                    ..ContainerPort::default()
                }]),
                resources: Some(ResourceRequirements {
                    requests: Some(resources.clone()),
                    limits: Some(resources),
                    ..ResourceRequirements::default()
                }),
                liveness_probe: Some(health("/")),
                readiness_probe: Some(health("/")),
                security_context: Some(restricted()),
                volume_mounts: Some(vec![VolumeMount {
                    name: "config".into(),
                    mount_path: CONFIG_DIR.into(),
                    read_only: Some(true),
                    ..VolumeMount::default()
                }]),
                ..Container::default()
            }],
            volumes: Some(vec![Volume {
                name: "config".into(),
                config_map: Some(ConfigMapVolumeSource {
                    name: COLLECTOR.into(),
                    ..ConfigMapVolumeSource::default()
                }),
                ..Volume::default()
            }]),
            ..PodSpec::default()
        }),
    }
}

pub fn cluster_role_binding(run: &Run) -> ClusterRoleBinding {
    ClusterRoleBinding {
        metadata: meta(run, COLLECTOR, None),
        role_ref: RoleRef {
            api_group: "rbac.authorization.k8s.io".into(),
            kind: "ClusterRole".into(),
            name: COLLECTOR_READER.into(),
        },
        subjects: Some(vec![Subject {
            kind: "ServiceAccount".into(),
            name: SERVICE_ACCOUNT.into(),
            namespace: Some(NAMESPACE.into()),
            api_group: None,
        }]),
    }
}
