//! The `storage-class` function: the storage step's `create`, and the Kubernetes half of a plan
//! (`plan`), which needs the same cluster role and nothing else.

use crate::clients::AwsClients;
use crate::error::Result;
use crate::poll::Poll;
use crate::settings::Settings;
use crate::steps::k8s::KubeStepEvent;
use crate::steps::k8s::storage::{self, StorageAction, StorageOutput};
use crate::steps::plan::Plan;
use crate::steps::plan::kubernetes::{self, KubernetesPlanEvent};
use serde::{Deserialize, Serialize};
use serde_json::Value;

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
        StorageClassEvent::Storage(event) => storage::handle(clients, settings, *event)
            .await
            .map(StorageClassOutput::Storage),
        StorageClassEvent::Plan(event) => kubernetes::handle(clients, settings, event)
            .await
            .map(StorageClassOutput::Plan),
    }
}
