//! epic03: the cluster-wide objects static EFS volumes need. `CSIDriver efs.csi.aws.com` with
//! `attachRequired: false` (without it Kubernetes waits for an attacher that Fargate does not run)
//! and StorageClass `efs-sc`, the class the PVs and PVCs bind through. Both are shared by every
//! namespace on the cluster, and EKS may ship the CSIDriver itself: each is created only when
//! missing, recorded in the cluster's part of the ledger when we create it, and never changed.
//! Fargate's logging configuration (`logging.rs`) is the same kind of object, so this step makes
//! it too.

use super::logging::{self, LoggingOutput};
use super::{Kube, KubeStepEvent};
use crate::aws;
use crate::clients::AwsClients;
use crate::error::{Result, WorkflowError};
use crate::ledger::Ledger;
use crate::poll::Poll;
use crate::resources::collector::{self, InsightsOutput};
use crate::resources::kube_object::{self, Origin};
use crate::resources::{Kind, Recorder};
use crate::run::Run;
use crate::settings::Settings;
use k8s_openapi::api::storage::v1::{CSIDriver, CSIDriverSpec, StorageClass};
use kube::api::{Api, ObjectMeta};
use kube::{Resource, ResourceExt};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::fmt::Debug;

pub const CSI_DRIVER: &str = "efs.csi.aws.com";
pub const STORAGE_CLASS: &str = "efs-sc";

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum StorageAction {
    Create,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SharedObject {
    pub name: String,
    pub origin: Origin,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StorageOutput {
    pub csi_driver: SharedObject,
    pub storage_class: SharedObject,
    pub logging: LoggingOutput,
    /// The namespace's collector, when the run asks for Container Insights.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container_insights: Option<InsightsOutput>,
}

/// The `storage-class` function.
pub async fn handle(
    clients: &AwsClients,
    settings: &Settings,
    event: KubeStepEvent<StorageAction>,
) -> Result<Poll<StorageOutput>> {
    // `fileSystemId` is checked like in every Kubernetes step's event, but the shared class names
    // no file system (see `ensure_storage`).
    event.validate()?;
    let cluster = aws::eks::cluster(&clients.eks, &event.run.request.cluster_name).await?;
    let kube = Kube::connect_to(clients, settings, &cluster).await?;
    let ledger = Ledger::of(&clients.dynamodb, settings)?;
    let (owner, creator) = (event.run.owner(), event.run.creator());
    let recorder = Recorder {
        ledger: &ledger,
        owner: &owner,
        creator: &creator,
    };
    match event.action {
        StorageAction::Create => {
            let region = clients.config.region().ok_or_else(|| {
                WorkflowError::invalid("AWS_REGION", "must be set: the pods' logs go to its CloudWatch")
            })?;
            let mut output = ensure_storage(
                &kube,
                recorder,
                &event.run,
                region.as_ref(),
                &settings.fargate_log_group,
            )
            .await?;
            // Day-2 metrics too: this step runs once the namespace's Fargate profile is ACTIVE.
            output.container_insights = collector::converge(
                clients,
                settings,
                &kube,
                recorder,
                &cluster,
                &event.run,
                region.as_ref(),
            )
            .await?;
            let detail = format!(
                "CSIDriver {} ({:?}), StorageClass {} ({:?}), logging ConfigMap {}/{} ({:?}){}",
                output.csi_driver.name,
                output.csi_driver.origin,
                output.storage_class.name,
                output.storage_class.origin,
                logging::NAMESPACE,
                output.logging.config_map.name,
                output.logging.config_map.origin,
                output
                    .container_insights
                    .as_ref()
                    .map(|c| format!(", Container Insights collector {} as {}", c.deployment, c.role_arn))
                    .unwrap_or_default()
            );
            Ok(Poll::ready(event.attempt, detail, output))
        }
    }
}

pub async fn ensure_storage(
    kube: &Kube,
    recorder: Recorder<'_>,
    run: &Run,
    region: &str,
    log_group: &str,
) -> Result<StorageOutput> {
    let metadata = |name: &str| ObjectMeta {
        name: Some(name.into()),
        labels: Some(run.labels()),
        ..ObjectMeta::default()
    };
    let driver = CSIDriver {
        metadata: metadata(CSI_DRIVER),
        spec: CSIDriverSpec {
            attach_required: Some(false),
            ..CSIDriverSpec::default()
        },
    };
    // No `parameters`: the PVs are static and name their file system themselves, and a class
    // shared by every namespace must not name one run's file system.
    let class = StorageClass {
        metadata: metadata(STORAGE_CLASS),
        provisioner: CSI_DRIVER.into(),
        ..StorageClass::default()
    };
    Ok(StorageOutput {
        csi_driver: ensure_shared(kube, recorder, Kind::CsiDriver, &kube.all(), &driver).await?,
        storage_class: ensure_shared(kube, recorder, Kind::StorageClass, &kube.all(), &class).await?,
        logging: logging::ensure(kube, recorder, run, region, log_group).await?,
        container_insights: None,
    })
}

/// Creates a shared object when missing, recorded in the cluster's part of the ledger; one found
/// is never changed.
pub(super) async fn ensure_shared<K>(
    kube: &Kube,
    recorder: Recorder<'_>,
    kind: Kind,
    api: &Api<K>,
    object: &K,
) -> Result<SharedObject>
where
    K: Resource<DynamicType = ()> + Clone + DeserializeOwned + Serialize + Debug,
{
    let name = object.name_any();
    let origin = kube_object::ensure(kube, recorder, recorder.cluster(), kind, api, object).await?;
    tracing::info!(kind = K::kind(&()).as_ref(), %name, ?origin, "shared object ensured");
    Ok(SharedObject { name, origin })
}
