//! Each machine's `TimeoutSeconds` leaves room for every poll loop to reach its cap: a run that hits
//! the machine timeout skips its `Catch`, so the timeout must never be the first limit reached.
//!
//! The longest a run can last is the sum, along its path, of each loop's cap times what one
//! attempt may take: the longest Wait a non-paced action asks for, or, for the status actions that
//! poll inside the function (`efs_fargate_core::pacing`), an in-function wait. Parallel branches
//! count once, by their longest.

use efs_fargate_core::functions::Function;
use efs_fargate_core::pacing::IN_FUNCTION_SECONDS;
use serde_json::{Map, Value};

/// The longest interval a non-paced action asks to wait (`prepare` while the cluster is CREATING,
/// and the cleanup's lease poll).
const LONGEST_POLL_SECONDS: u64 = 30;

/// The functions whose status actions poll inside the invocation (`pacing::settle`).
const PACED: [Function; 4] = [
    Function::FargateProfile,
    Function::Efs,
    Function::PocApp,
    Function::Validate,
];

/// The longest one attempt of the loop that `choice` closes may take.
fn attempt_seconds(states: &Map<String, Value>, choice: &str) -> u64 {
    let task = states
        .values()
        .find(|s| s["Type"] == "Task" && s["Next"] == choice)
        .unwrap_or_else(|| panic!("no Task goes to {choice}"));
    let function = task["Parameters"]["FunctionName"].as_str().unwrap_or_default();
    if PACED.iter().any(|f| f.arn_placeholder() == function) {
        LONGEST_POLL_SECONDS.max(u64::from(IN_FUNCTION_SECONDS))
    } else {
        LONGEST_POLL_SECONDS
    }
}

/// Seconds the loops of `states` may take at most, and how many polls their caps allow.
fn longest(states: &Map<String, Value>) -> (u64, u64) {
    states.iter().fold((0, 0), |(seconds, polls), (name, state)| {
        let branches = state["Branches"].as_array().into_iter().flatten();
        let (branch_seconds, branch_polls) = branches
            .map(|branch| longest(branch["States"].as_object().unwrap()))
            .fold((0, 0), |(s, p), (bs, bp)| (s.max(bs), p + bp));
        let cap: u64 = state["Choices"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|rule| std::iter::once(rule).chain(rule["And"].as_array().into_iter().flatten()))
            .filter_map(|rule| rule["NumericGreaterThanEquals"].as_u64())
            .sum();
        let own = if cap > 0 {
            cap * attempt_seconds(states, name)
        } else {
            0
        };
        (seconds + branch_seconds + own, polls + branch_polls + cap)
    })
}

#[test]
fn every_poll_cap_is_reached_well_before_the_machine_timeout() {
    for definition in asl_gen::definitions() {
        let name = definition.file_name;
        let json: Value = serde_json::from_str(&definition.text).unwrap();
        let (seconds, polls) = longest(json["States"].as_object().unwrap());
        let timeout = json["TimeoutSeconds"].as_u64().unwrap();
        assert!(polls > 200, "{name}: {polls} polls counted");
        // A quarter to spare for the Tasks' own time and the first long Waits.
        assert!(
            timeout * 4 >= seconds * 5,
            "{name}: TimeoutSeconds {timeout} is less than 1.25 x the {seconds} s the poll caps allow"
        );
    }
}
