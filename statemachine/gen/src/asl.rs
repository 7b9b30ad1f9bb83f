//! The Amazon States Language (JSONPath) document model, as far as the workflow uses it. Structs
//! serialize their fields in declaration order, so the output's key order is fixed.

use crate::json::{Json, Obj};
use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct StateMachine {
    pub comment: String,
    pub start_at: String,
    pub timeout_seconds: u32,
    pub states: States,
}

/// The `States` of a machine or a `Parallel` branch, in the order they were added.
#[derive(Default)]
pub struct States(Vec<(String, State)>);

impl States {
    pub fn add(&mut self, name: &str, state: impl Into<State>) {
        self.0.push((name.to_string(), state.into()));
    }

    pub fn extend(&mut self, states: impl IntoIterator<Item = (String, State)>) {
        self.0.extend(states);
    }
}

impl Serialize for States {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (name, state) in &self.0 {
            map.serialize_entry(name, state)?;
        }
        map.end()
    }
}

#[derive(Serialize)]
#[serde(tag = "Type")]
pub enum State {
    Pass(Pass),
    Task(Task),
    Choice(Choice),
    Wait(Wait),
    Parallel(Parallel),
    Succeed(Succeed),
    Fail(Fail),
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Pass {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    pub parameters: Obj,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result_path: Option<String>,
    pub next: String,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Task {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    pub resource: &'static str,
    pub parameters: Obj,
    pub result_selector: Obj,
    pub result_path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output_path: Option<String>,
    pub retry: Vec<Retrier>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub catch: Vec<Catcher>,
    pub next: String,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Choice {
    pub choices: Vec<ChoiceRule>,
    pub default: String,
}

/// One `Choices` entry: a condition (`Variable` + comparison, or `And`) and its target.
#[derive(Serialize)]
pub struct ChoiceRule {
    #[serde(flatten)]
    pub condition: Condition,
    #[serde(rename = "Next")]
    pub next: String,
}

/// A Choice condition, built only through the comparisons the workflow uses.
#[derive(Serialize)]
pub struct Condition(Obj);

impl Condition {
    pub fn string_equals(variable: &str, value: &str) -> Self {
        Self(Obj::new().set("Variable", variable).set("StringEquals", value))
    }

    pub fn is_present(variable: &str) -> Self {
        Self(Obj::new().set("Variable", variable).set("IsPresent", true))
    }

    pub fn is_true(variable: &str) -> Self {
        Self(Obj::new().set("Variable", variable).set("BooleanEquals", true))
    }

    pub fn at_least(variable: &str, value: u32) -> Self {
        Self(
            Obj::new()
                .set("Variable", variable)
                .set("NumericGreaterThanEquals", i64::from(value)),
        )
    }

    pub fn all(conditions: impl IntoIterator<Item = Condition>) -> Self {
        let list: Vec<Json> = conditions.into_iter().map(|condition| Json::Obj(condition.0)).collect();
        Self(Obj::new().set("And", list))
    }

    pub fn then(self, next: &str) -> ChoiceRule {
        ChoiceRule {
            condition: self,
            next: next.to_string(),
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Wait {
    pub seconds_path: String,
    pub next: String,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Parallel {
    pub comment: String,
    pub branches: Vec<Branch>,
    pub result_selector: Obj,
    pub result_path: String,
    pub catch: Vec<Catcher>,
    pub next: String,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Branch {
    pub start_at: String,
    pub states: States,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Succeed {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output_path: Option<String>,
}

/// A `Fail` state: a fixed error and cause, or the ones recorded at `$.error` by a `Catch`.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Fail {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    #[serde(flatten)]
    pub reason: FailReason,
}

#[derive(Serialize)]
#[serde(untagged)]
pub enum FailReason {
    Named {
        #[serde(rename = "Error")]
        error: &'static str,
        #[serde(rename = "Cause")]
        cause: String,
    },
    Recorded {
        #[serde(rename = "ErrorPath")]
        error_path: &'static str,
        #[serde(rename = "CausePath")]
        cause_path: &'static str,
    },
}

impl FailReason {
    /// The error and cause a `Catch` (or a poll cap `Pass`) stored at `$.error`.
    pub const RECORDED: FailReason = FailReason::Recorded {
        error_path: "$.error.Error",
        cause_path: "$.error.Cause",
    };
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Retrier {
    pub error_equals: Vec<&'static str>,
    pub interval_seconds: u32,
    pub max_attempts: u32,
    pub backoff_rate: u32,
    pub max_delay_seconds: u32,
    pub jitter_strategy: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Catcher {
    pub error_equals: [&'static str; 1],
    pub result_path: String,
    pub next: String,
}

impl Catcher {
    /// Catches every error, records it at `result_path` and goes on to `next`.
    pub fn all(result_path: &str, next: &str) -> Vec<Catcher> {
        vec![Catcher {
            error_equals: ["States.ALL"],
            result_path: result_path.to_string(),
            next: next.to_string(),
        }]
    }
}

macro_rules! state_from {
    ($($kind:ident),*) => {
        $(impl From<$kind> for State {
            fn from(state: $kind) -> Self {
                State::$kind(state)
            }
        })*
    };
}
state_from!(Pass, Task, Choice, Wait, Parallel, Succeed, Fail);
