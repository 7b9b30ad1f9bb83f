//! Every step action answers in one shape, `{ready, nextPollSeconds, attempt, detail, output}`
//! (`efs_fargate_core::poll::Poll`), and every polling loop reads it the same way: one Task whose
//! `attempt` comes back from its own last result, a Choice that leaves when `ready` (or at the
//! attempt cap), and a Wait for the `nextPollSeconds` the Task returned. The state before the loop
//! seeds `<result path>.attempt` with 0.

use crate::asl::{Choice, ChoiceRule, Condition, Fail, FailReason, Pass, State, Wait};
use crate::json::Obj;
use crate::machine_errors::MachineError;
use crate::retry::RetryPolicy;
use crate::task::LambdaTask;

/// The fields of the poll shape, in its order.
const POLL_FIELDS: [&str; 5] = ["ready", "nextPollSeconds", "attempt", "detail", "output"];

/// The `ResultSelector` of every step Task: the poll shape as the function returned it.
pub fn poll_selector() -> Obj {
    POLL_FIELDS
        .iter()
        .fold(Obj::new(), |obj, field| obj.path(field, &format!("$.Payload.{field}")))
}

/// The seed of a loop's result path: no attempt yet.
pub fn seed() -> Obj {
    Obj::new().set("attempt", 0)
}

/// What happens when the attempt cap is reached.
pub enum CapReached {
    /// Fails the machine (or its Parallel branch) with `error`; the cause reads
    /// "{what} within {cap} polls.".
    Fail { error: MachineError, what: &'static str },
    /// Records `error` with the `States.Format` expression `cause` at `result_path`, then goes
    /// to `next` (the rollback, or the next cleanup step).
    Record {
        error: MachineError,
        comment: String,
        cause: String,
        result_path: String,
        next: String,
    },
}

pub struct PollLoop {
    /// The Task: its name and call (the loop adds `attempt`, the result and the next state).
    pub task: (String, LambdaTask),
    /// Where the poll goes in the state; the call's `attempt` is read back from there.
    pub result_path: String,
    /// Rules the Choice checks before `ready` (e.g. a result that ends the machine early).
    pub before_ready: Vec<ChoiceRule>,
    pub check: String,
    pub wait: String,
    pub on_ready: String,
    pub cap: u32,
    pub cap_state: String,
    pub on_cap: CapReached,
}

impl PollLoop {
    /// The Task, the Choice, the Wait and the cap state, in that order.
    pub fn states(self, policy: &RetryPolicy) -> Vec<(String, State)> {
        let attempt = format!("{}.attempt", self.result_path);
        let (task_name, task) = self.task;
        let task = task
            .add_to_payload(Obj::new().path("attempt", &attempt))
            .result(poll_selector(), &self.result_path)
            .build(policy, &self.check);
        let mut choices = self.before_ready;
        choices.push(Condition::is_true(&format!("{}.ready", self.result_path)).then(&self.on_ready));
        choices.push(Condition::at_least(&attempt, self.cap).then(&self.cap_state));
        let check = Choice {
            choices,
            default: self.wait.clone(),
        };
        let wait = Wait {
            seconds_path: format!("{}.nextPollSeconds", self.result_path),
            next: task_name.clone(),
        };
        let cap: State = match self.on_cap {
            CapReached::Fail { error, what } => Fail {
                comment: None,
                reason: FailReason::Named {
                    error: error.as_str(),
                    cause: format!("{what} within {} polls.", self.cap),
                },
            }
            .into(),
            CapReached::Record {
                error,
                comment,
                cause,
                result_path,
                next,
            } => Pass {
                comment: Some(comment),
                parameters: Obj::new().set("Error", error.as_str()).path("Cause", &cause),
                result_path: Some(result_path),
                next,
            }
            .into(),
        };
        vec![
            (task_name, task.into()),
            (self.check, check.into()),
            (self.wait, wait.into()),
            (self.cap_state, cap),
        ]
    }
}
