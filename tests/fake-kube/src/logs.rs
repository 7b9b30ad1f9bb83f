//! Container logs: what each container printed (stdout and stderr interleaved, like the kubelet
//! keeps them), capped like the kubelet's log rotation.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};

/// The kubelet's default `containerLogMaxSize`.
const MAX_LOG_BYTES: usize = 10 * 1024 * 1024;

#[derive(Debug, Default)]
struct ContainerLog {
    lines: VecDeque<String>,
    bytes: usize,
}

/// Every started container's log, by (pod uid, container name).
#[derive(Debug, Default)]
pub struct Logs(Mutex<HashMap<(String, String), ContainerLog>>);

impl Logs {
    /// Marks the container as started (its log exists, possibly empty) and returns its writer.
    pub fn start(self: &Arc<Self>, pod_uid: &str, container: &str) -> LogSink {
        let key = (pod_uid.to_string(), container.to_string());
        self.lock().entry(key.clone()).or_default();
        LogSink {
            logs: Arc::clone(self),
            key,
        }
    }

    /// The log of a started container, or `None` when it has not started.
    pub fn read(&self, pod_uid: &str, container: &str, tail_lines: Option<usize>) -> Option<String> {
        let logs = self.lock();
        let log = logs.get(&(pod_uid.to_string(), container.to_string()))?;
        let skip = tail_lines.map_or(0, |n| log.lines.len().saturating_sub(n));
        Some(log.lines.iter().skip(skip).map(|line| format!("{line}\n")).collect())
    }

    /// Forgets the logs of a deleted pod.
    pub fn remove_pod(&self, pod_uid: &str) {
        self.lock().retain(|(uid, _), _| uid != pod_uid);
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<(String, String), ContainerLog>> {
        self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Appends to one container's log.
#[derive(Clone, Debug)]
pub struct LogSink {
    logs: Arc<Logs>,
    key: (String, String),
}

impl LogSink {
    /// Appends `text`, one log line per line of it.
    pub fn write(&self, text: &str) {
        if text.is_empty() {
            return;
        }
        let mut logs = self.logs.lock();
        let Some(log) = logs.get_mut(&self.key) else {
            return; // the pod is gone
        };
        for line in text.strip_suffix('\n').unwrap_or(text).split('\n') {
            log.bytes += line.len() + 1;
            log.lines.push_back(line.to_string());
        }
        while log.bytes > MAX_LOG_BYTES {
            let Some(oldest) = log.lines.pop_front() else { break };
            log.bytes -= oldest.len() + 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_lines_and_tails_them() {
        let logs = Arc::new(Logs::default());
        assert_eq!(logs.read("uid", "app", None), None);
        let sink = logs.start("uid", "app");
        assert_eq!(logs.read("uid", "app", None).as_deref(), Some(""));
        sink.write("a\nb\n");
        sink.write("c\n");
        assert_eq!(logs.read("uid", "app", None).as_deref(), Some("a\nb\nc\n"));
        assert_eq!(logs.read("uid", "app", Some(2)).as_deref(), Some("b\nc\n"));
        logs.remove_pod("uid");
        sink.write("d\n");
        assert_eq!(logs.read("uid", "app", None), None);
    }
}
