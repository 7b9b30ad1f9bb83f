//! Container Insights for one namespace (`monitoring.containerInsights`, the pattern's day-2
//! metrics). Fargate runs no DaemonSets, so the CloudWatch agent's usual set-up does not apply:
//! AWS's documented way for Fargate is an AWS Distro for OpenTelemetry collector that scrapes the
//! nodes' cAdvisor through the API server (`collector.rs`). The workflow runs one collector per
//! namespace, in the namespace: it runs on the namespace's own Fargate profile, sees only the
//! namespace's pods, and goes with the namespace, so no run shares anything with another. It gets
//! AWS credentials from its own IAM role (`role.rs`) through the cluster's OIDC provider.
//! Made by the `storage-class` step, after the profile is ACTIVE; every object recorded in the
//! namespace's part of the ledger; removed by cleanup (the Kubernetes objects in `kubernetes`, the
//! role in `insights-role`), or by a later run of the namespace that leaves the option off.

pub mod config;
pub mod objects;
pub mod role;

use crate::clients::AwsClients;
use crate::error::Result;
use crate::k8s::Kube;
use crate::ownership::RUN_ID_KEY;
use crate::resources::kube_object::{self, Objects, Sweep};
use crate::resources::{CleanupScope, Kind, Recorder, Removal};
use crate::run::Run;
use crate::settings::Settings;
use aws_sdk_eks::types::Cluster;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{ConfigMap, ServiceAccount};
use k8s_openapi::api::rbac::v1::ClusterRoleBinding;
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
/// Container Insights, removed when it does not and an earlier run recorded one.
pub async fn converge(
    clients: &AwsClients,
    settings: &Settings,
    kube: &Kube,
    recorder: Recorder<'_>,
    cluster: &Cluster,
    run: &Run,
    region: &str,
) -> Result<Option<InsightsOutput>> {
    let owner = recorder.owner;
    let view = recorder.ledger.namespace(&owner.cluster, &owner.namespace).await?;
    if !run.request.monitoring.container_insights {
        if view.of_kind(Kind::Collector).next().is_some() || view.of_kind(Kind::CollectorRole).next().is_some() {
            let everything = CleanupScope::default();
            let sweep = Sweep {
                kube,
                ledger: recorder.ledger,
                owner,
                view: &view,
                scope: &everything,
            };
            remove_collector(&sweep).await?;
            let name = role::role_name(recorder.ledger.deployment(), region, owner);
            role::remove_role(&clients.iam, recorder.ledger, owner, &view, &everything, &name).await?;
            tracing::info!(namespace = %owner.namespace, "Container Insights collector removed: the run leaves it off");
        }
        return Ok(None);
    }
    let role_arn = role::ensure_role(&clients.iam, recorder, &view, run, &settings.insights, cluster).await?;
    let log_group = &settings.insights.log_group;
    let namespace = &owner.namespace;
    let objects = Objects { kube, recorder };
    let deployments = kube.namespaced::<Deployment>(namespace);
    let existing = objects.get(Kind::Collector, &deployments, COLLECTOR).await?;
    // Converged on every run, but labelled as its creator's: the labels tell people which run made it.
    let run = &labelled_as_creator(run, existing.as_ref());
    let config = objects::collector_config(run, region, log_group);
    objects
        .apply(
            Kind::CollectorServiceAccount,
            &kube.namespaced(namespace),
            &objects::service_account(run, &role_arn),
        )
        .await?;
    objects
        .apply(
            Kind::CollectorConfig,
            &kube.namespaced(namespace),
            &objects::config_map(run, &config),
        )
        .await?;
    objects
        .apply(
            Kind::Collector,
            &deployments,
            &objects::deployment(run, &settings.insights.collector_image, &config),
        )
        .await?;
    // A binding's role is immutable and ours never changes: created once, never patched.
    let bindings = kube.all::<ClusterRoleBinding>();
    let binding = objects::cluster_role_binding(run);
    match objects
        .get(Kind::CollectorBinding, &bindings, &objects::binding_name(namespace))
        .await?
    {
        Some(_) => {}
        None => {
            kube_object::ensure(
                kube,
                recorder,
                recorder.namespace(),
                Kind::CollectorBinding,
                &bindings,
                &binding,
            )
            .await?;
        }
    }
    tracing::info!(%namespace, %role_arn, "Container Insights collector converged");
    Ok(Some(InsightsOutput {
        role_arn,
        deployment: format!("{namespace}/{COLLECTOR}"),
        log_group: log_group.clone(),
        metric_namespace: config::METRIC_NAMESPACE.into(),
    }))
}

/// The run whose id the collector's labels carry: the one that created the collector.
fn labelled_as_creator(run: &Run, existing: Option<&Deployment>) -> Run {
    let mut creator = run.clone();
    if let Some(run_id) = existing
        .and_then(|d| d.metadata.labels.as_ref())
        .and_then(|labels| labels.get(RUN_ID_KEY))
    {
        // A label value stands for itself: labelling with it again gives the same label.
        creator.run_id = run_id.clone();
    }
    creator
}

/// Deletes the collector's recorded objects (in a rollback: its run's), the Deployment first: it
/// would start a deleted collector pod again.
pub async fn remove_collector(sweep: &Sweep<'_>) -> Result<Removal> {
    let (kube, namespace) = (sweep.kube, &sweep.owner.namespace);
    let removal = sweep
        .remove_kind(Kind::Collector, &kube.namespaced::<Deployment>(namespace))
        .await?;
    let removal = removal.and(
        sweep
            .remove_kind(Kind::CollectorConfig, &kube.namespaced::<ConfigMap>(namespace))
            .await?,
    );
    let removal = removal.and(
        sweep
            .remove_kind(
                Kind::CollectorServiceAccount,
                &kube.namespaced::<ServiceAccount>(namespace),
            )
            .await?,
    );
    Ok(removal.and(
        sweep
            .remove_kind(Kind::CollectorBinding, &kube.all::<ClusterRoleBinding>())
            .await?,
    ))
}
