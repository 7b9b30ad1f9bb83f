//! Every name a generated definition matches in `Retry` or `Catch` is one the workflow can raise:
//! a function's `errorType` (`ErrorName`), a state-machine-only name (`MachineError`), or a
//! `Lambda.*` / `States.*` name of the service; and each Task retries every retryable name.

use asl_gen::machine_errors::MachineError;
use efs_fargate_core::error::{ErrorName, RetryClass};
use serde_json::Value;
use strum::IntoEnumIterator;

fn tasks(states: &Value, out: &mut Vec<(String, Value)>) {
    for (name, state) in states.as_object().expect("States is an object") {
        if state["Type"] == "Task" {
            out.push((name.clone(), state.clone()));
        }
        for branch in state["Branches"].as_array().into_iter().flatten() {
            tasks(&branch["States"], out);
        }
    }
}

fn all_tasks() -> Vec<(String, Value)> {
    let mut out = Vec::new();
    for definition in asl_gen::definitions() {
        let machine: Value = serde_json::from_str(&definition.text).unwrap();
        tasks(&machine["States"], &mut out);
    }
    out
}

fn matched_names(task: &Value, field: &str) -> Vec<String> {
    task[field]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|entry| entry["ErrorEquals"].as_array().unwrap().iter())
        .map(|name| name.as_str().unwrap().to_string())
        .collect()
}

#[test]
fn every_matched_name_is_known() {
    let known: Vec<&str> = ErrorName::iter()
        .map(ErrorName::as_str)
        .chain(MachineError::iter().map(MachineError::as_str))
        .collect();
    for (name, task) in all_tasks() {
        for error in matched_names(&task, "Retry")
            .into_iter()
            .chain(matched_names(&task, "Catch"))
        {
            assert!(
                known.contains(&error.as_str())
                    || error.starts_with("Lambda.")
                    || error.starts_with("States.")
                    || error == "Sandbox.Timedout",
                "{name} matches unknown error name {error}"
            );
        }
    }
}

#[test]
fn every_task_retries_the_transient_and_busy_names() {
    let retryable: Vec<&str> = ErrorName::iter()
        .filter(|name| matches!(name.retry_class(), Some(RetryClass::Transient | RetryClass::Busy)))
        .map(ErrorName::as_str)
        .collect();
    for (name, task) in all_tasks() {
        let retried = matched_names(&task, "Retry");
        for error in &retryable {
            assert!(retried.iter().any(|r| r == error), "{name} does not retry {error}");
        }
    }
}
