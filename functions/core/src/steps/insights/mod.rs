//! Container Insights for one namespace (`monitoring.containerInsights`, the pattern's day-2
//! metrics). Fargate runs no DaemonSets, so the CloudWatch agent's usual set-up does not apply:
//! AWS's documented way for Fargate is an AWS Distro for OpenTelemetry collector that scrapes the
//! nodes' cAdvisor through the API server (`collector.rs`). The workflow runs one collector per
//! namespace, in the namespace: it runs on the namespace's own Fargate profile, sees only the
//! namespace's pods, and goes with the namespace, so no run shares anything with another. It gets
//! AWS credentials from its own IAM role (`role.rs`) through the cluster's OIDC provider.
//! Made by the `storage-class` step, after the profile is ACTIVE; removed by cleanup (the
//! Kubernetes objects in `kubernetes`, the role in `insights-role`), or by a later run of the
//! namespace that leaves the option off.

pub mod collector;
pub mod objects;
pub mod role;

use crate::clients::AwsClients;
use crate::error::Result;
use crate::ownership::{EXPIRES_AT_KEY, Owner, RUN_ID_KEY, Scope};
use crate::run::Run;
use crate::settings::Settings;
use crate::steps::k8s::cleanup::{Progress, remove_listed};
use crate::steps::k8s::{Kube, check_ours};
use aws_sdk_eks::types::Cluster;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{ConfigMap, ServiceAccount};
use k8s_openapi::api::rbac::v1::ClusterRoleBinding;
use kube::Resource;
use kube::api::{Api, ListParams};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::fmt::Debug;

/// The name of the collector's Deployment and ConfigMap in the namespace.
pub const COLLECTOR: &str = "efs-fargate-workflow-insights";
/// The collector's service account, which its IAM role trusts.
pub const SERVICE_ACCOUNT: &str = "efs-fargate-workflow-insights";

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InsightsOutput {
    pub role_arn: String,
    pub deployment: String,
    pub log_group: String,
    pub metric_namespace: String,
}

/// Converges the namespace's collector to the run's option: made (or updated) when it asks for
/// Container Insights, removed when it does not and an earlier run of ours made one.
pub async fn converge(
    clients: &AwsClients,
    settings: &Settings,
    kube: &Kube,
    cluster: &Cluster,
    run: &Run,
    region: &str,
) -> Result<Option<InsightsOutput>> {
    let owner = run.owner();
    if !run.request.monitoring.container_insights {
        let deployments = kube.namespaced::<Deployment>(&owner.namespace);
        let earlier = kube.get(&deployments, COLLECTOR).await?;
        if earlier.is_some_and(|d| owner.owns_labels(d.metadata.labels.as_ref())) {
            remove_collector(kube, &owner, &Scope::of(None), &mut Progress::default()).await?;
            role::remove_role(&clients.iam, &owner, &Scope::of(None)).await?;
            tracing::info!(namespace = %owner.namespace, "Container Insights collector removed: the run leaves it off");
        }
        return Ok(None);
    }
    let role_arn = role::ensure_role(&clients.iam, run, &settings.insights, cluster).await?;
    let log_group = &settings.insights.log_group;
    let namespace = &owner.namespace;
    let existing = kube.get(&kube.namespaced::<Deployment>(namespace), COLLECTOR).await?;
    if let Some(found) = &existing {
        check_ours(&owner, found)?;
    }
    // Converged on every run, but labelled as its creator's: a rollback of a later run must not
    // take an earlier run's collector with it.
    let run = &labelled_as_creator(run, existing.as_ref());
    let config = objects::collector_config(run, region, log_group);
    apply_ours(
        kube,
        &owner,
        &kube.namespaced(namespace),
        &objects::service_account(run, &role_arn),
    )
    .await?;
    apply_ours(
        kube,
        &owner,
        &kube.namespaced(namespace),
        &objects::config_map(run, &config),
    )
    .await?;
    // Read and checked as ours above.
    kube.apply(
        &kube.namespaced(namespace),
        &objects::deployment(run, &settings.insights.collector_image, &config),
    )
    .await?;
    // A binding's role is immutable and ours never changes: created once, never patched.
    let bindings = kube.all::<ClusterRoleBinding>();
    let binding = objects::cluster_role_binding(run);
    match kube.get(&bindings, &objects::binding_name(namespace)).await? {
        Some(found) => check_ours(&owner, &found)?,
        None => {
            kube.create_if_missing(&bindings, &binding).await?;
        }
    }
    tracing::info!(%namespace, %role_arn, "Container Insights collector converged");
    Ok(Some(InsightsOutput {
        role_arn,
        deployment: format!("{namespace}/{COLLECTOR}"),
        log_group: log_group.clone(),
        metric_namespace: collector::METRIC_NAMESPACE.into(),
    }))
}

/// The run whose id and expiry the collector's labels carry: the one that created the collector.
fn labelled_as_creator(run: &Run, existing: Option<&Deployment>) -> Run {
    let mut creator = run.clone();
    if let Some(labels) = existing.and_then(|d| d.metadata.labels.as_ref()) {
        if let Some(run_id) = labels.get(RUN_ID_KEY) {
            // A label value stands for itself: labelling with it again gives the same label.
            creator.run_id = run_id.clone();
        }
        creator.expires_at = labels.get(EXPIRES_AT_KEY).cloned();
    }
    creator
}

/// Applies an object the workflow owns; one of that name that it does not own is a conflict.
async fn apply_ours<K>(kube: &Kube, owner: &Owner, api: &Api<K>, object: &K) -> Result<()>
where
    K: Resource<DynamicType = ()> + Clone + DeserializeOwned + Serialize + Debug,
{
    let name = object.meta().name.clone().unwrap_or_default();
    if let Some(found) = kube.get(api, &name).await? {
        check_ours(owner, &found)?;
    }
    kube.apply(api, object).await?;
    Ok(())
}

/// Deletes the collector's objects of ours (in a rollback: that run's), found by their labels;
/// returns how many still exist.
pub async fn remove_collector(kube: &Kube, owner: &Owner, scope: &Scope, progress: &mut Progress) -> Result<usize> {
    let selector = ListParams::default().labels(&format!(
        "{},{}={}",
        scope.label_selector(owner),
        objects::COMPONENT.0,
        objects::COMPONENT.1
    ));
    let namespace = &owner.namespace;
    let mut left = remove_listed(kube, &kube.namespaced::<Deployment>(namespace), &selector, progress).await?;
    left += remove_listed(kube, &kube.namespaced::<ConfigMap>(namespace), &selector, progress).await?;
    left += remove_listed(kube, &kube.namespaced::<ServiceAccount>(namespace), &selector, progress).await?;
    left += remove_listed(kube, &kube.all::<ClusterRoleBinding>(), &selector, progress).await?;
    Ok(left)
}
