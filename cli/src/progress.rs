//! An execution's progress, folded from its Step Functions history: the current state, each
//! state's entries and time spent, the polls (Wait states) so far, and how it ended.

use aws_sdk_sfn::types::{HistoryEvent, HistoryEventType as T};

#[derive(Clone, Debug, Default, PartialEq)]
pub struct StateStats {
    pub name: String,
    pub entries: u32,
    pub seconds: f64,
    pub is_wait: bool,
    entered_at: Option<f64>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    Succeeded {
        output: Option<String>,
    },
    Failed {
        status: String,
        error: String,
        cause: String,
    },
}

#[derive(Clone, Debug, Default)]
pub struct Progress {
    /// In the order each state was first entered.
    pub states: Vec<StateStats>,
    pub current: Option<String>,
    pub transitions: u32,
    pub started_at: Option<f64>,
    pub last_at: Option<f64>,
    pub outcome: Option<Outcome>,
    last_event_id: i64,
}

impl Progress {
    pub fn polls(&self) -> u32 {
        self.states.iter().filter(|s| s.is_wait).map(|s| s.entries).sum()
    }

    pub fn elapsed(&self) -> f64 {
        match (self.started_at, self.last_at) {
            (Some(start), Some(last)) => last - start,
            _ => 0.0,
        }
    }

    /// Applies the events not seen yet and returns one line per notable event.
    pub fn apply(&mut self, events: &[HistoryEvent]) -> Vec<String> {
        let mut lines = Vec::new();
        let seen = self.last_event_id;
        for event in events.iter().filter(|e| e.id() > seen) {
            self.last_event_id = event.id();
            let at = event.timestamp().as_secs_f64();
            self.last_at = Some(at);
            if let Some(line) = self.apply_one(event, at) {
                lines.push(format!("[{:>7.1}s] {line}", self.elapsed()));
            }
        }
        lines
    }

    fn apply_one(&mut self, event: &HistoryEvent, at: f64) -> Option<String> {
        match event.r#type() {
            T::ExecutionStarted => {
                self.started_at = Some(at);
                Some("execution started".into())
            }
            kind if kind.as_str().ends_with("StateEntered") => {
                let name = event.state_entered_event_details()?.name().to_string();
                self.transitions += 1;
                let is_wait = *kind == T::WaitStateEntered;
                let stats = self.stats(&name);
                stats.entries += 1;
                stats.is_wait = is_wait;
                stats.entered_at = Some(at);
                let entries = stats.entries;
                self.current = Some(name.clone());
                Some(if is_wait {
                    format!("… {name} (poll {})", self.polls())
                } else if entries > 1 {
                    format!("→ {name} (#{entries})")
                } else {
                    format!("→ {name}")
                })
            }
            kind if kind.as_str().ends_with("StateExited") => {
                let name = event.state_exited_event_details()?.name().to_string();
                let stats = self.stats(&name);
                if let Some(entered) = stats.entered_at.take() {
                    stats.seconds += at - entered;
                }
                None
            }
            T::TaskFailed | T::LambdaFunctionFailed => {
                let (error, cause) = match (
                    event.task_failed_event_details(),
                    event.lambda_function_failed_event_details(),
                ) {
                    (Some(d), _) => (d.error().unwrap_or_default(), d.cause().unwrap_or_default()),
                    (_, Some(d)) => (d.error().unwrap_or_default(), d.cause().unwrap_or_default()),
                    _ => ("", ""),
                };
                Some(format!(
                    "✗ {} failed: {error} {}",
                    self.current.as_deref().unwrap_or("task"),
                    short(cause)
                ))
            }
            T::ExecutionSucceeded => {
                let output = event
                    .execution_succeeded_event_details()
                    .and_then(|d| d.output())
                    .map(str::to_string);
                self.outcome = Some(Outcome::Succeeded { output });
                self.current = None;
                Some("execution succeeded".into())
            }
            T::ExecutionFailed | T::ExecutionAborted | T::ExecutionTimedOut => {
                let (error, cause) = event
                    .execution_failed_event_details()
                    .map(|d| {
                        (
                            d.error().unwrap_or_default().to_string(),
                            d.cause().unwrap_or_default().to_string(),
                        )
                    })
                    .unwrap_or_default();
                let status = event.r#type().as_str().trim_start_matches("Execution").to_uppercase();
                self.outcome = Some(Outcome::Failed {
                    status: status.clone(),
                    error: error.clone(),
                    cause,
                });
                self.current = None;
                Some(format!("execution {status}: {error}"))
            }
            _ => None,
        }
    }

    fn stats(&mut self, name: &str) -> &mut StateStats {
        if let Some(index) = self.states.iter().position(|s| s.name == name) {
            return &mut self.states[index];
        }
        self.states.push(StateStats {
            name: name.to_string(),
            ..StateStats::default()
        });
        self.states.last_mut().expect("just pushed")
    }
}

fn short(text: &str) -> String {
    if text.chars().count() > 160 {
        format!("{}…", text.chars().take(160).collect::<String>())
    } else {
        text.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_sfn::types::{ExecutionSucceededEventDetails, StateEnteredEventDetails, StateExitedEventDetails};
    use aws_smithy_types::DateTime;

    fn event(id: i64, at: f64, kind: T) -> aws_sdk_sfn::types::builders::HistoryEventBuilder {
        HistoryEvent::builder()
            .id(id)
            .timestamp(DateTime::from_secs_f64(at))
            .r#type(kind)
    }

    fn entered(id: i64, at: f64, kind: T, name: &str) -> HistoryEvent {
        event(id, at, kind)
            .state_entered_event_details(StateEnteredEventDetails::builder().name(name).build().unwrap())
            .build()
            .unwrap()
    }

    fn exited(id: i64, at: f64, kind: T, name: &str) -> HistoryEvent {
        event(id, at, kind)
            .state_exited_event_details(StateExitedEventDetails::builder().name(name).build().unwrap())
            .build()
            .unwrap()
    }

    #[test]
    fn durations_polls_and_outcome_are_folded_from_the_history() {
        let history = vec![
            event(1, 100.0, T::ExecutionStarted).build().unwrap(),
            entered(2, 100.0, T::TaskStateEntered, "Status"),
            exited(3, 101.0, T::TaskStateExited, "Status"),
            entered(4, 101.0, T::WaitStateEntered, "WaitForProfile"),
            exited(5, 106.0, T::WaitStateExited, "WaitForProfile"),
            entered(6, 106.0, T::TaskStateEntered, "Status"),
            exited(7, 107.5, T::TaskStateExited, "Status"),
            event(8, 108.0, T::ExecutionSucceeded)
                .execution_succeeded_event_details(ExecutionSucceededEventDetails::builder().output("{}").build())
                .build()
                .unwrap(),
        ];
        let mut progress = Progress::default();
        let lines = progress.apply(&history[..5]);
        assert_eq!(lines.len(), 3, "{lines:?}");
        assert!(lines[2].contains("WaitForProfile (poll 1)"), "{lines:?}");
        let more = progress.apply(&history);
        assert_eq!(more.len(), 2, "only new events: {more:?}");
        assert_eq!(progress.transitions, 3);
        assert_eq!(progress.polls(), 1);
        let status = &progress.states[0];
        assert_eq!((status.entries, status.seconds), (2, 2.5));
        assert_eq!(
            progress.outcome,
            Some(Outcome::Succeeded {
                output: Some("{}".into())
            })
        );
        assert_eq!(progress.elapsed(), 8.0);
    }
}
