//! What the validation learns while the app still runs, kept in a ConfigMap of the namespace: the
//! app is deleted before the report is written, and each action must be re-runnable from the run
//! alone, so the evidence cannot live only in one invocation's output.

use crate::error::{Result, WorkflowError};
use crate::k8s::metadata;
use crate::resources::Kind;
use crate::resources::kube_object::Objects;
use crate::run::Run;
use k8s_openapi::api::core::v1::ConfigMap;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub const RECORD: &str = "poc-app-validation";
const KEY: &str = "record.json";

/// The lines each app printed from the other's file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CrossRead {
    /// The last line poc-app1 printed from /data/out2.txt.
    pub poc_app1_read: String,
    /// The last line poc-app2 printed from /data/out1.txt.
    pub poc_app2_read: String,
}

/// RFC 3339 instants of the validation's milestones.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Timings {
    /// When the later of the two app containers started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub apps_running_at: Option<String>,
    /// When both apps had printed a line of the other's file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cross_read_at: Option<String>,
    /// When the app's pods, claim and volume were gone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub apps_deleted_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validation_started_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validation_finished_at: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Record {
    pub cross_read: CrossRead,
    pub timings: Timings,
}

pub async fn load(objects: Objects<'_>, run: &Run) -> Result<Option<Record>> {
    let api = objects.kube.namespaced::<ConfigMap>(&run.request.namespace);
    let Some(found) = objects.get(Kind::ConfigMap, &api, RECORD).await? else {
        return Ok(None);
    };
    let text = found
        .data
        .as_ref()
        .and_then(|d| d.get(KEY))
        .map(String::as_str)
        .unwrap_or_default();
    serde_json::from_str(text)
        .map(Some)
        .map_err(|e| WorkflowError::ValidationFailed {
            check: format!(
                "the record in ConfigMap {}/{RECORD} must be readable",
                run.request.namespace
            ),
            evidence: format!("{e}; delete the ConfigMap and run the cross-read again"),
        })
}

pub async fn save(objects: Objects<'_>, run: &Run, record: &Record) -> Result<()> {
    let namespace = &run.request.namespace;
    let config_map = ConfigMap {
        metadata: metadata(run, RECORD, Some(namespace)),
        data: Some(BTreeMap::from([(
            KEY.to_string(),
            serde_json::to_string(record).expect("the record serializes"),
        )])),
        ..ConfigMap::default()
    };
    objects
        .apply(Kind::ConfigMap, &objects.kube.namespaced(namespace), &config_map)
        .await?;
    Ok(())
}
