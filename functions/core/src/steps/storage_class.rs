//! The `storage-class` function (epic03): the storage step's `create` (the CSIDriver and the
//! StorageClass, Fargate's logging configuration and the namespace's Container Insights
//! collector), and the Kubernetes half of a plan (`plan`), which needs the same cluster role and
//! nothing else.

use crate::aws;
use crate::clients::AwsClients;
use crate::error::{Result, WorkflowError};
use crate::k8s::Kube;
use crate::ledger::Ledger;
use crate::poll::Poll;
use crate::resources::Recorder;
use crate::resources::collector::{self, InsightsOutput};
use crate::resources::logging::{self, LoggingOutput};
use crate::resources::storage_objects::{self, SharedObject};
use crate::settings::Settings;
use crate::steps::k8s::KubeStepEvent;
use crate::steps::plan::Plan;
use crate::steps::plan::kubernetes::{self, KubernetesPlanEvent};
use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum StorageAction {
    Create,
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

#[derive(Clone, Debug, Deserialize)]
#[serde(try_from = "Value")]
pub enum StorageClassEvent {
    Storage(Box<KubeStepEvent<StorageAction>>),
    Plan(KubernetesPlanEvent),
}

impl TryFrom<Value> for StorageClassEvent {
    type Error = serde_json::Error;

    fn try_from(event: Value) -> std::result::Result<Self, Self::Error> {
        match event.get("action") {
            Some(Value::String(action)) if action == "plan" => serde_json::from_value(event).map(Self::Plan),
            _ => serde_json::from_value(event).map(|e| Self::Storage(Box::new(e))),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum StorageClassOutput {
    Storage(Poll<StorageOutput>),
    Plan(Poll<Plan>),
}

pub async fn handle(clients: &AwsClients, settings: &Settings, event: StorageClassEvent) -> Result<StorageClassOutput> {
    match event {
        StorageClassEvent::Storage(event) => storage(clients, settings, *event)
            .await
            .map(StorageClassOutput::Storage),
        StorageClassEvent::Plan(event) => kubernetes::handle(clients, settings, event)
            .await
            .map(StorageClassOutput::Plan),
    }
}

/// The storage step: the shared objects, Fargate's logging configuration, the collector.
async fn storage(
    clients: &AwsClients,
    settings: &Settings,
    event: KubeStepEvent<StorageAction>,
) -> Result<Poll<StorageOutput>> {
    // `fileSystemId` is checked like in every Kubernetes step's event, but the shared class names
    // no file system (see `storage_objects::ensure`).
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
            let objects = storage_objects::ensure(&kube, recorder, &event.run).await?;
            let logging = logging::ensure(
                &kube,
                recorder,
                &event.run,
                region.as_ref(),
                &settings.fargate_log_group,
            )
            .await?;
            // Day-2 metrics too: this step runs once the namespace's Fargate profile is ACTIVE.
            let container_insights = collector::converge(
                clients,
                settings,
                &kube,
                recorder,
                &cluster,
                &event.run,
                region.as_ref(),
            )
            .await?;
            let output = StorageOutput {
                csi_driver: objects.csi_driver,
                storage_class: objects.storage_class,
                logging,
                container_insights,
            };
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
