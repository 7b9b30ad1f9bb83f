//! Why a pod or claim is not there yet, in words: its phase, the waiting or scheduling reason, and
//! the recent warning events (FailedScheduling, FailedMount, ...).

use super::Kube;
use k8s_openapi::api::core::v1::{Event, Pod};
use kube::api::ListParams;
use serde::{Deserialize, Serialize};

/// Warning events kept per object: the latest say what is wrong now.
const EVENTS_KEPT: usize = 3;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PodReport {
    pub name: String,
    /// `Missing`, or the pod's phase: `Pending`, `Running`, `Succeeded`, `Failed`.
    pub phase: String,
    /// Why it is not running: a waiting container's or the scheduler's reason and message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub events: Vec<String>,
}

impl PodReport {
    pub fn of(name: &str, pod: Option<&Pod>) -> Self {
        let status = pod.and_then(|p| p.status.as_ref());
        let phase = match pod {
            None => "Missing".to_string(),
            Some(_) => status.and_then(|s| s.phase.clone()).unwrap_or_else(|| "Pending".into()),
        };
        Self {
            name: name.into(),
            phase,
            reason: status.and_then(reason),
            events: vec![],
        }
    }

    pub fn is_running(&self) -> bool {
        self.phase == "Running"
    }

    /// Ended, which an app pod never should, or gone.
    pub fn has_stopped(&self) -> bool {
        matches!(self.phase.as_str(), "Succeeded" | "Failed" | "Missing")
    }

    /// One line for a poll's `detail`.
    pub fn summary(&self) -> String {
        let mut text = format!("pod {} is {}", self.name, self.phase);
        if let Some(reason) = &self.reason {
            text.push_str(&format!(" ({reason})"));
        }
        if let Some(event) = self.events.last() {
            text.push_str(&format!("; last event: {event}"));
        }
        text
    }
}

fn reason(status: &k8s_openapi::api::core::v1::PodStatus) -> Option<String> {
    let containers = status.container_statuses.iter().flatten();
    let container_reason = containers.filter_map(|c| c.state.as_ref()).find_map(|state| {
        if let Some(waiting) = &state.waiting {
            Some(join(waiting.reason.as_deref(), waiting.message.as_deref()))
        } else {
            state
                .terminated
                .as_ref()
                .map(|t| join(Some(&format!("exited with code {}", t.exit_code)), t.reason.as_deref()))
        }
    });
    let unscheduled = || {
        status
            .conditions
            .iter()
            .flatten()
            .find(|c| c.type_ == "PodScheduled" && c.status == "False")
            .map(|c| join(c.reason.as_deref(), c.message.as_deref()))
    };
    container_reason.or_else(unscheduled).filter(|r| !r.is_empty())
}

fn join(reason: Option<&str>, message: Option<&str>) -> String {
    match (reason, message) {
        (Some(r), Some(m)) if !m.is_empty() => format!("{r}: {m}"),
        (Some(r), _) => r.to_string(),
        (None, Some(m)) => m.to_string(),
        (None, None) => String::new(),
    }
}

/// The latest warning events about an object. Best effort: a diagnosis must not fail the poll,
/// so an API that refuses to list events yields none.
pub async fn warnings(kube: &Kube, namespace: &str, kind: &str, name: &str) -> Vec<String> {
    let params = ListParams::default().fields(&format!("involvedObject.kind={kind},involvedObject.name={name}"));
    let events = match kube.namespaced::<Event>(namespace).list(&params).await {
        Ok(list) => list.items,
        Err(e) => {
            tracing::debug!(error = %e, %kind, %name, "events not listed");
            return vec![];
        }
    };
    let mut warnings: Vec<&Event> = events
        .iter()
        .filter(|e| e.type_.as_deref() == Some("Warning"))
        .collect();
    warnings.sort_by_key(|e| e.last_timestamp.as_ref().map(|t| t.0));
    warnings
        .iter()
        .rev()
        .take(EVENTS_KEPT)
        .rev()
        .map(|e| join(e.reason.as_deref(), e.message.as_deref()))
        .collect()
}
