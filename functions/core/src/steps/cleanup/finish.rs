//! `finish`: the last state of a cleanup. Every action has been attempted by then, whether or not
//! the one before it succeeded; this reports what each removed and kept, and fails the execution
//! with `CleanupIncomplete` when any action could not finish, naming each one and why.

use super::{CleanupAction, FinishEvent};
use crate::error::{Result, WorkflowError, truncated};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

/// The most of one action's error cause that goes into the `CleanupIncomplete` message.
const CAUSE_CHARS: usize = 600;

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ActionSummary {
    pub removed: Vec<String>,
    pub kept: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CleanupSummary {
    pub cluster_name: String,
    pub namespace: String,
    /// Set when this cleanup was the rollback of one run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_id: Option<String>,
    /// Per action (keyed as in the state: `kubernetes`, `fargateProfile`, ...).
    pub actions: BTreeMap<String, ActionSummary>,
}

impl CleanupAction {
    /// Where the state machine keeps this action's result, and its key in the summary.
    pub fn state_key(self) -> &'static str {
        match self {
            CleanupAction::Kubernetes => "kubernetes",
            CleanupAction::Alarms => "alarms",
            CleanupAction::InsightsRole => "insightsRole",
            CleanupAction::FargateProfile => "fargateProfile",
            CleanupAction::MountTargets => "mountTargets",
            CleanupAction::FileSystem => "fileSystem",
            CleanupAction::SecurityGroup => "securityGroup",
            CleanupAction::KmsKey => "kmsKey",
            CleanupAction::AccessEntry => "accessEntry",
        }
    }
}

pub fn finish(event: FinishEvent) -> Result<CleanupSummary> {
    let mut actions = BTreeMap::new();
    let mut left = Vec::new();
    for action in CleanupAction::ALL {
        let key = action.state_key();
        match event.outcomes.get(key) {
            Some(outcome) if outcome.get("Error").is_some() => {
                let text = |field: &str| {
                    outcome
                        .get(field)
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_string()
                };
                left.push(format!(
                    "{key}: {} ({})",
                    text("Error"),
                    truncated(&cause_message(&text("Cause")), CAUSE_CHARS)
                ));
            }
            Some(outcome) => {
                // The action's last poll: its `output` accounts for every call.
                let summary: ActionSummary = outcome
                    .get("output")
                    .and_then(|output| serde_json::from_value(output.clone()).ok())
                    .unwrap_or_default();
                actions.insert(key.to_string(), summary);
            }
            None => left.push(format!("{key}: never ran")),
        }
    }
    if !left.is_empty() {
        return Err(WorkflowError::CleanupIncomplete {
            cluster: event.cluster_name,
            namespace: event.namespace,
            left: left.join("; "),
        });
    }
    Ok(CleanupSummary {
        cluster_name: event.cluster_name,
        namespace: event.namespace,
        run_id: event.run_id,
        actions,
    })
}

/// A Lambda error's `Cause` is the function's `{"errorType", "errorMessage"}` JSON: its message.
fn cause_message(cause: &str) -> String {
    serde_json::from_str::<Value>(cause)
        .ok()
        .and_then(|v| v.get("errorMessage").and_then(Value::as_str).map(str::to_string))
        .unwrap_or_else(|| cause.to_string())
}

#[cfg(test)]
mod tests {
    use super::super::FinishAction;
    use super::*;
    use serde_json::json;

    fn event(outcomes: Value) -> FinishEvent {
        FinishEvent {
            action: FinishAction::Finish,
            cluster_name: "demo".into(),
            namespace: "ns".into(),
            run_id: None,
            generation: None,
            execution_arn: None,
            outcomes: serde_json::from_value(outcomes).unwrap(),
        }
    }

    fn all_done() -> Value {
        let mut outcomes = serde_json::Map::new();
        for action in CleanupAction::ALL {
            outcomes.insert(
                action.state_key().into(),
                json!({"ready": true, "nextPollSeconds": 0, "attempt": 1, "detail": "done",
                    "output": {"removed": [format!("{action:?}")], "kept": []}}),
            );
        }
        Value::Object(outcomes)
    }

    #[test]
    fn a_complete_cleanup_is_summarised() {
        let summary = finish(event(all_done())).unwrap();
        assert_eq!(summary.actions.len(), CleanupAction::ALL.len());
        assert_eq!(summary.actions["fileSystem"].removed, vec!["FileSystem"]);
    }

    #[test]
    fn every_failed_or_missing_action_is_listed() {
        let mut outcomes = all_done();
        outcomes["kubernetes"] = json!({"Error": "KubernetesUnavailable", "Cause": "{\"errorType\":\"KubernetesUnavailable\",\"errorMessage\":\"the API did not answer\"}"});
        outcomes["securityGroup"] = json!({"Error": "CleanupTimeout", "Cause": "not done after 30 polls"});
        outcomes.as_object_mut().unwrap().remove("accessEntry");
        let err = finish(event(outcomes)).unwrap_err();
        assert_eq!(err.error_type(), "CleanupIncomplete");
        let message = err.to_string();
        for part in [
            "kubernetes: KubernetesUnavailable (the API did not answer)",
            "securityGroup: CleanupTimeout (not done after 30 polls)",
            "accessEntry: never ran",
        ] {
            assert!(message.contains(part), "{message}");
        }
        assert!(!message.contains("fileSystem"), "{message}");
    }
}
