//! The one shape every step action returns, pending or not: the state machines read `ready` to
//! leave a polling loop, `nextPollSeconds` to wait, `attempt` to stop at the cap, `detail` to tell a
//! person what is pending, and `output` for what the step produced.

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Poll<T> {
    pub ready: bool,
    /// 0 once ready.
    pub next_poll_seconds: u32,
    /// This call's number: the event's `attempt` (the calls before it) plus one.
    pub attempt: u32,
    /// A short human-readable account of what is done or still pending.
    pub detail: String,
    pub output: T,
}

impl<T> Poll<T> {
    /// Done: the state machine moves on.
    pub fn ready(previous_attempts: u32, detail: impl Into<String>, output: T) -> Self {
        Self {
            ready: true,
            next_poll_seconds: 0,
            attempt: previous_attempts + 1,
            detail: detail.into(),
            output,
        }
    }

    /// Still pending: call again after `next_poll_seconds`.
    pub fn pending(previous_attempts: u32, next_poll_seconds: u32, detail: impl Into<String>, output: T) -> Self {
        Self {
            ready: false,
            next_poll_seconds,
            attempt: previous_attempts + 1,
            detail: detail.into(),
            output,
        }
    }

    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Poll<U> {
        Poll {
            ready: self.ready,
            next_poll_seconds: self.next_poll_seconds,
            attempt: self.attempt,
            detail: self.detail,
            output: f(self.output),
        }
    }
}
