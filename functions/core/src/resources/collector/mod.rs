//! Container Insights (`monitoring.containerInsights`, the pattern's day-2 metrics). Fargate runs
//! no DaemonSets, so the CloudWatch agent's usual set-up does not apply: AWS's documented way for
//! Fargate is an AWS Distro for OpenTelemetry collector that scrapes the nodes' cAdvisor through the
//! API server (`config.rs`). Reading every node takes `nodes/proxy`, which is not read-only, so the
//! workflow runs one collector per cluster in a namespace of its own that no tenant can use
//! (`efs-fargate-workflow-insights`, on its own Fargate profile, `profile.rs`), with its own IAM
//! role through the cluster's OIDC provider (`role.rs`): no tenant namespace holds a service
//! account with node rights. It reports the namespaces provisioned with the option: the users of
//! its ConfigMap's ledger record, written into its configuration by [`sync`] under the API server's
//! optimistic concurrency, so runs of several namespaces never lose each other's. With no namespace
//! to report it scales to zero. Everything is recorded in the cluster's part of the ledger and
//! removed with the cluster's last namespace (cleanup's shared removal). Ledgers of earlier
//! versions record a collector per namespace, in the tenant's namespace: the namespace's next run
//! or its cleanup removes it ([`remove_per_namespace`]).

pub mod config;
pub mod objects;
pub mod profile;
pub mod role;

use crate::clients::AwsClients;
use crate::error::{Result, WorkflowError};
use crate::k8s::Kube;
use crate::ledger::{Ledger, NamespaceView, Place};
use crate::ownership::Owner;
use crate::resources::kube_object::{self, Origin, Sweep, is_recorded};
use crate::resources::{CleanupScope, Kind, Recorder, Removal, namespace_access, rbac};
use crate::run::Run;
use crate::settings::{InsightsSettings, Settings};
use aws_sdk_eks::types::Cluster;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace, ServiceAccount};
use k8s_openapi::api::rbac::v1::ClusterRoleBinding;
use serde::{Deserialize, Serialize};
use std::fmt::Debug;

/// The collector's namespace; also the name of its Deployment, ConfigMap, service account (which
/// its IAM role trusts) and ClusterRoleBinding.
pub const NAMESPACE: &str = "efs-fargate-workflow-insights";
pub const COLLECTOR: &str = NAMESPACE;
pub const SERVICE_ACCOUNT: &str = NAMESPACE;
/// How often [`sync`] reads and writes again when other runs keep changing the configuration.
const SYNC_ATTEMPTS: usize = 5;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InsightsOutput {
    pub role_arn: String,
    /// `namespace/name` of the cluster's collector.
    pub deployment: String,
    pub log_group: String,
    pub metric_namespace: String,
    /// The namespaces it reports, this one among them.
    pub namespaces: Vec<String>,
}

/// What [`sync`] needs to write the configuration.
#[derive(Clone, Copy)]
pub struct Target<'a> {
    pub settings: &'a InsightsSettings,
    pub region: &'a str,
}

/// Converges the cluster's collector to the run's option: made when missing, and this namespace
/// reported (or, with the option off, no longer reported).
pub async fn converge(
    clients: &AwsClients,
    settings: &Settings,
    kube: &Kube,
    recorder: Recorder<'_>,
    cluster: &Cluster,
    run: &Run,
    region: &str,
) -> Result<Option<InsightsOutput>> {
    let (owner, ledger) = (recorder.owner, recorder.ledger);
    let target = Target {
        settings: &settings.insights,
        region,
    };
    // An earlier version's collector in the tenant's namespace goes, whatever the option.
    let view = ledger.namespace(&owner.cluster, &owner.namespace).await?;
    remove_per_namespace(clients, kube, ledger, owner, &view, &CleanupScope::default()).await?;
    let place = recorder.cluster();
    if !run.request.monitoring.container_insights {
        forget_namespace(kube, ledger, &owner.cluster, &owner.namespace, target).await?;
        return Ok(None);
    }
    let role_arn = role::ensure_role(&clients.iam, recorder, run, &settings.insights, cluster).await?;
    let config = config::config(&config::Target {
        cluster: &owner.cluster,
        namespaces: &[],
        region,
        log_group: &settings.insights.log_group,
    });
    ensure(
        kube,
        recorder,
        Kind::CollectorNamespace,
        &kube.all(),
        &objects::namespace(run),
    )
    .await?;
    namespace_access::ensure(kube, recorder, place, Kind::CollectorAccess, run, NAMESPACE).await?;
    let objects = [
        ensure(
            kube,
            recorder,
            Kind::CollectorServiceAccount,
            &kube.namespaced(NAMESPACE),
            &objects::service_account(run, &role_arn),
        )
        .await?,
        ensure(
            kube,
            recorder,
            Kind::CollectorConfig,
            &kube.namespaced(NAMESPACE),
            &objects::config_map(run, &config),
        )
        .await?,
    ];
    ledger
        .add_user(place, Kind::CollectorConfig, COLLECTOR, &owner.namespace)
        .await?;
    let deployment = objects::deployment(run, &settings.insights.collector_image, &config);
    ensure(
        kube,
        recorder,
        Kind::Collector,
        &kube.namespaced(NAMESPACE),
        &deployment,
    )
    .await?;
    ensure(
        kube,
        recorder,
        Kind::CollectorBinding,
        &kube.all(),
        &objects::cluster_role_binding(run),
    )
    .await?;
    let namespaces = sync(kube, ledger, &owner.cluster, target).await?;
    tracing::info!(%role_arn, ?namespaces, created = ?objects, "Container Insights collector converged");
    Ok(Some(InsightsOutput {
        role_arn,
        deployment: format!("{NAMESPACE}/{COLLECTOR}"),
        log_group: settings.insights.log_group.clone(),
        metric_namespace: config::METRIC_NAMESPACE.into(),
        namespaces,
    }))
}

/// One of the collector's objects, in the cluster's part of the ledger: made when missing and never
/// changed here ([`sync`] converges the configuration and the pod template).
async fn ensure<K>(kube: &Kube, recorder: Recorder<'_>, kind: Kind, api: &kube::Api<K>, object: &K) -> Result<Origin>
where
    K: kube::Resource<DynamicType = ()> + Clone + serde::de::DeserializeOwned + Serialize + Debug,
{
    kube_object::ensure_ours(kube, recorder, recorder.cluster(), kind, api, object).await
}

/// Writes the namespaces the ledger says the collector reports into its configuration, and the
/// Deployment that configuration asks for. The ConfigMap is read before the ledger and written only
/// while unchanged since, and the write is checked to be the last after the Deployment's: whichever
/// of several concurrent runs writes last wrote every namespace recorded before. Returns the
/// namespaces reported (none when the cluster has no collector of ours).
pub async fn sync(kube: &Kube, ledger: &Ledger, cluster: &str, target: Target<'_>) -> Result<Vec<String>> {
    let place = Place::Cluster(cluster);
    let config_maps = kube.namespaced::<ConfigMap>(NAMESPACE);
    let deployments = kube.namespaced::<Deployment>(NAMESPACE);
    for _ in 0..SYNC_ATTEMPTS {
        let Some(current) = kube.get(&config_maps, COLLECTOR).await? else {
            return Ok(vec![]);
        };
        let Some(record) = ledger
            .get(place, Kind::CollectorConfig, COLLECTOR)
            .await?
            .filter(|r| is_recorded(r, &current))
        else {
            return Ok(vec![]);
        };
        let namespaces: Vec<String> = record.users.into_iter().collect();
        let config = config::config(&config::Target {
            cluster,
            namespaces: &namespaces,
            region: target.region,
            log_group: &target.settings.log_group,
        });
        let data = serde_json::json!({"data": objects::config_data(&config)});
        let version = current.metadata.resource_version.as_deref();
        let Some(written) = kube.merge_patch(&config_maps, COLLECTOR, version, data).await? else {
            continue;
        };
        let patch = objects::deployment_patch(&target.settings.collector_image, &config, !namespaces.is_empty());
        if kube.get(&deployments, COLLECTOR).await?.is_some() {
            kube.merge_patch(&deployments, COLLECTOR, None, patch).await?;
        }
        let now = kube.get(&config_maps, COLLECTOR).await?;
        if now.and_then(|c| c.metadata.resource_version) == written.metadata.resource_version {
            return Ok(namespaces);
        }
    }
    Err(WorkflowError::DependencyNotReady {
        resource: format!("the Container Insights collector's configuration on cluster {cluster}"),
        message: format!("other runs changed it {SYNC_ATTEMPTS} times while this one wrote it"),
    })
}

/// The cleanup of a namespace: the collector no longer reports it (nothing to do once it does not).
pub async fn forget_namespace(
    kube: &Kube,
    ledger: &Ledger,
    cluster: &str,
    namespace: &str,
    target: Target<'_>,
) -> Result<()> {
    let place = Place::Cluster(cluster);
    let record = ledger.get(place, Kind::CollectorConfig, COLLECTOR).await?;
    if record.is_some_and(|r| r.users.contains(namespace)) {
        ledger
            .remove_user(place, Kind::CollectorConfig, COLLECTOR, namespace)
            .await?;
        sync(kube, ledger, cluster, target).await?;
    }
    Ok(())
}

/// Removes the cluster's collector when the ledger records it (the caller decided that no namespace
/// of ours needs it any more): its ClusterRoleBinding, then its namespace with everything in it.
pub async fn remove(kube: &Kube, ledger: &Ledger, cluster: &str) -> Result<Removal> {
    let place = Place::Cluster(cluster);
    let mut removal = Removal::done();
    if let Some(record) = ledger.get(place, Kind::CollectorBinding, COLLECTOR).await?
        && let Some(deleting) =
            kube_object::delete(kube, ledger, place, &record, &kube.all::<ClusterRoleBinding>()).await?
    {
        removal = Removal::pending().removed(deleting);
    }
    if let Some(record) = ledger.get(place, Kind::CollectorNamespace, NAMESPACE).await?
        && let Some(deleting) = kube_object::delete(kube, ledger, place, &record, &kube.all::<Namespace>()).await?
    {
        removal.done = false;
        return Ok(removal.removed(deleting));
    }
    // The namespace is gone, with what it held: their records go.
    for (kind, name) in [
        (Kind::Collector, COLLECTOR),
        (Kind::CollectorConfig, COLLECTOR),
        (Kind::CollectorServiceAccount, SERVICE_ACCOUNT),
        (Kind::CollectorAccess, rbac::NAME),
    ] {
        ledger.forget(place, kind, name).await?;
    }
    Ok(removal)
}

/// An earlier version's collector in a tenant's namespace (recorded in the namespace's part): its
/// objects (in a rollback: its run's), the Deployment first, which would start a deleted collector
/// pod again, and its IAM role.
pub async fn remove_per_namespace(
    clients: &AwsClients,
    kube: &Kube,
    ledger: &Ledger,
    owner: &Owner,
    view: &NamespaceView,
    scope: &CleanupScope,
) -> Result<Removal> {
    let legacy = [
        Kind::Collector,
        Kind::CollectorConfig,
        Kind::CollectorServiceAccount,
        Kind::CollectorBinding,
        Kind::CollectorRole,
    ];
    if !view.records.iter().any(|r| legacy.contains(&r.kind)) {
        return Ok(Removal::done());
    }
    let sweep = Sweep {
        kube,
        ledger,
        owner,
        view,
        scope,
    };
    let namespace = &owner.namespace;
    let removal = sweep
        .remove_kind(Kind::Collector, &kube.namespaced::<Deployment>(namespace))
        .await?
        .and(
            sweep
                .remove_kind(Kind::CollectorConfig, &kube.namespaced::<ConfigMap>(namespace))
                .await?,
        )
        .and(
            sweep
                .remove_kind(
                    Kind::CollectorServiceAccount,
                    &kube.namespaced::<ServiceAccount>(namespace),
                )
                .await?,
        )
        .and(
            sweep
                .remove_kind(Kind::CollectorBinding, &kube.all::<ClusterRoleBinding>())
                .await?,
        );
    Ok(removal.and(role::remove_recorded(&clients.iam, ledger, view.of_kind(Kind::CollectorRole), scope).await?))
}
