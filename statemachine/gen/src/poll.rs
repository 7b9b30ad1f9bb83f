//! A polling loop as one piece: a status Task, a Choice that leaves on the ready (or done) flag or
//! at the attempt cap, a Wait for the `nextPollSeconds` the status returned, and the state that
//! reports the cap.

use crate::asl::{Choice, Condition, Fail, FailReason, Pass, State, Wait};
use crate::json::Obj;
use crate::machine_errors::MachineError;
use crate::retry::RetryPolicy;
use crate::task::LambdaTask;

/// The flag of a status output that ends the loop.
#[derive(Clone, Copy)]
pub enum Flag {
    /// Provisioning: `{ready, nextPollSeconds, attempt}`.
    Ready,
    /// Cleanup: `{done, nextPollSeconds, attempt}`.
    Done,
}

impl Flag {
    fn key(self) -> &'static str {
        match self {
            Flag::Ready => "ready",
            Flag::Done => "done",
        }
    }
}

/// The poll fields of a status output, as a `ResultSelector`.
pub fn poll_selector(flag: Flag) -> Obj {
    Obj::new()
        .path(flag.key(), &format!("$.Payload.{}", flag.key()))
        .path("nextPollSeconds", "$.Payload.nextPollSeconds")
        .path("attempt", "$.Payload.attempt")
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
    /// The status Task: its name and call (the loop adds `attempt`, the result and the next state).
    pub status: (String, LambdaTask),
    /// Where the poll fields go in the state; the call's `attempt` is read back from there.
    pub result_path: String,
    pub flag: Flag,
    /// More of the status output to keep next to the poll fields.
    pub keep: Obj,
    pub check: String,
    pub wait: String,
    pub on_ready: String,
    pub cap: u32,
    pub cap_state: String,
    pub on_cap: CapReached,
}

impl PollLoop {
    /// The status Task, the Choice, the Wait and the cap state, in that order.
    pub fn states(self, policy: &RetryPolicy) -> Vec<(String, State)> {
        let attempt = format!("{}.attempt", self.result_path);
        let (status_name, status) = self.status;
        let status = status
            .add_to_payload(Obj::new().path("attempt", &attempt))
            .result(poll_selector(self.flag).extend(self.keep), &self.result_path)
            .build(policy, &self.check);
        let check = Choice {
            choices: vec![
                Condition::is_true(&format!("{}.{}", self.result_path, self.flag.key())).then(&self.on_ready),
                Condition::at_least(&attempt, self.cap).then(&self.cap_state),
            ],
            default: self.wait.clone(),
        };
        let wait = Wait {
            seconds_path: format!("{}.nextPollSeconds", self.result_path),
            next: status_name.clone(),
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
            (status_name, status.into()),
            (self.check, check.into()),
            (self.wait, wait.into()),
            (self.cap_state, cap),
        ]
    }
}
