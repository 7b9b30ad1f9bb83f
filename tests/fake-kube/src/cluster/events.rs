//! Core `v1` Events about pods, deduplicated like the event recorder does (same object, reason
//! and message → `count` goes up).

use jiff::Timestamp;
use serde_json::{Value, json};

use crate::kind::Kind;
use crate::store::{ObjectKey, Store, meta};

/// One event to record.
#[derive(Clone, Copy, Debug)]
pub struct EventSpec<'a> {
    /// `Normal` or `Warning`.
    pub kind: &'a str,
    pub reason: &'a str,
    pub message: &'a str,
    /// `fargate-scheduler`, `default-scheduler`, `kubelet`.
    pub component: &'a str,
}

impl<'a> EventSpec<'a> {
    pub fn normal(reason: &'a str, message: &'a str, component: &'a str) -> Self {
        Self {
            kind: "Normal",
            reason,
            message,
            component,
        }
    }

    pub fn warning(reason: &'a str, message: &'a str, component: &'a str) -> Self {
        Self {
            kind: "Warning",
            reason,
            message,
            component,
        }
    }
}

/// Records `event` about `pod` in the pod's namespace.
pub fn record(store: &mut Store, now: Timestamp, pod: &Value, event: EventSpec<'_>) {
    let namespace = meta::namespace(pod);
    let existing = store
        .list(Kind::Event, Some(namespace))
        .find(|e| {
            e["involvedObject"]["uid"] == pod["metadata"]["uid"]
                && e["reason"] == event.reason
                && e["message"] == event.message
        })
        .cloned();
    if let Some(existing) = existing {
        store.update(&ObjectKey::of(Kind::Event, &existing), meta::uid(&existing), |e| {
            e["count"] = json!(e["count"].as_i64().unwrap_or(1) + 1);
            e["lastTimestamp"] = json!(now.to_string());
        });
        return;
    }
    let body = json!({
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": format!("{}.{}", meta::name(pod), meta::random_suffix(10))},
        "involvedObject": {
            "apiVersion": "v1",
            "kind": "Pod",
            "namespace": namespace,
            "name": meta::name(pod),
            "uid": meta::uid(pod),
            "resourceVersion": pod["metadata"]["resourceVersion"],
        },
        "reason": event.reason,
        "message": event.message,
        "type": event.kind,
        "source": {"component": event.component},
        "reportingComponent": event.component,
        "reportingInstance": "",
        "firstTimestamp": now.to_string(),
        "lastTimestamp": now.to_string(),
        "count": 1,
    });
    tracing::info!(
        pod = format!("{namespace}/{}", meta::name(pod)),
        reason = event.reason,
        detail = event.message,
        "event"
    );
    if let Err(error) = store.create(Kind::Event, namespace, body, now) {
        tracing::debug!(%error, "event not recorded (namespace gone?)");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_events_count_up() {
        let mut store = Store::default();
        let now = Timestamp::now();
        store
            .create(Kind::Namespace, "", json!({"metadata": {"name": "ns"}}), now)
            .unwrap();
        let pod = json!({"metadata": {"name": "web", "namespace": "ns", "uid": "u1"}});
        let event = EventSpec::warning("FailedMount", "no", "kubelet");
        record(&mut store, now, &pod, event);
        record(&mut store, now, &pod, event);
        record(&mut store, now, &pod, EventSpec::normal("Started", "ok", "kubelet"));
        let events: Vec<&Value> = store.list(Kind::Event, Some("ns")).collect();
        assert_eq!(events.len(), 2);
        let failed = events.iter().find(|e| e["reason"] == "FailedMount").unwrap();
        assert_eq!(failed["count"], 2);
        assert_eq!(failed["involvedObject"]["name"], "web");
        assert!(meta::name(failed).starts_with("web."));
    }
}
