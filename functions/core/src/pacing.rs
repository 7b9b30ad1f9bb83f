//! When to look again at a change that AWS or Fargate is making: the one place that knows how long
//! each change takes (the latency model in the README's Performance section) and turns it into
//! polls.
//!
//! A status action either returns a `nextPollSeconds` for a Wait state or keeps polling inside the
//! function for a bounded time. Each Wait loop costs three state transitions (Task, Choice, Wait:
//! $0.000075 on Standard workflows, about 22 s of a 256 MB arm64 Lambda); polling every few
//! seconds near the expected end through Wait states would cost that every few seconds, one long
//! Wait would overshoot. So: wait in a Wait state until the change may be done soon
//! ([`Expected::first_poll`]), then poll in the function every [`Expected::step`] seconds for at
//! most [`IN_FUNCTION_SECONDS`], and loop through a zero Wait while the change is overdue.

use std::future::Future;
use std::time::Instant;

use crate::error::Result;
use crate::poll::Poll;
use crate::settings::Settings;

/// The longest a status action polls inside one invocation: long enough to cover a change's
/// likely end (median ± a quarter minute) in one invocation, well under the functions' 60 s
/// timeout.
pub const IN_FUNCTION_SECONDS: u32 = 45;

/// Seconds an in-function wait that starts at [`Expected::first_poll`] goes on past the median.
pub const MEDIAN_MARGIN: u32 = 10;

/// How long a change takes, in seconds, from the call that starts it: the low, median and high
/// cases of the latency model.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Expected {
    pub low: u32,
    pub median: u32,
    pub high: u32,
}

/// A Fargate profile, CREATING to ACTIVE.
pub const FARGATE_PROFILE: Expected = Expected::new(120, 180, 240);
/// An EFS file system, `creating` to `available`.
pub const FILE_SYSTEM: Expected = Expected::new(5, 10, 15);
/// EFS mount targets, from their create call (once the file system is available) to `available`.
pub const MOUNT_TARGETS: Expected = Expected::new(60, 80, 100);
/// A Fargate pod, created to Running (a microVM and an image pull).
pub const FARGATE_POD: Expected = Expected::new(60, 75, 90);
/// Two Running PoC apps each printing a line of the other's file (they write every 5 s).
pub const CROSS_READ: Expected = Expected::new(5, 10, 15);
/// A deleted pod gone (its grace period, [`crate::resources::workload::manifests::GRACE_PERIOD_SECONDS`],
/// and the sandbox's teardown).
pub const POD_DELETION: Expected = Expected::new(1, 3, 30);
/// A claim on a static PV, created to Bound (the PV controller's next sync).
pub const CLAIM_BINDING: Expected = Expected::new(0, 1, 5);

/// What a pending status action does next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Next {
    /// Return, and let a Wait state wait this many seconds.
    Wait(u32),
    /// Poll again inside this invocation after this many seconds.
    Poll(u32),
}

impl Expected {
    pub const fn new(low: u32, median: u32, high: u32) -> Self {
        Self { low, median, high }
    }

    /// When the first poll after the start is worth making: the low case, or later so that one
    /// in-function wait from there still covers the median with [`MEDIAN_MARGIN`] to spare (a
    /// change that ends early waits for that poll: the price of one Wait instead of several).
    pub const fn first_poll(&self) -> u32 {
        let before_median = self.median.saturating_sub(IN_FUNCTION_SECONDS - MEDIAN_MARGIN);
        if before_median > self.low {
            before_median
        } else {
            self.low
        }
    }

    /// Seconds between polls inside the function: a twentieth of the median, from 1 to 5 s (small
    /// against the change, and never more than one Describe call per second).
    pub const fn step(&self) -> u32 {
        let step = self.median / 20;
        if step < 1 {
            1
        } else if step > 5 {
            5
        } else {
            step
        }
    }

    /// What to do after `waited` seconds since the change started, `in_function` of them spent
    /// polling in this invocation.
    pub fn next(&self, waited: u32, in_function: u32) -> Next {
        let until_first = self.first_poll().saturating_sub(waited);
        // A change that can end within one in-function wait is waited for here from the start.
        let worth_a_wait_state = self.high.saturating_sub(waited) > IN_FUNCTION_SECONDS;
        if until_first > 0 && worth_a_wait_state {
            return Next::Wait(until_first);
        }
        if in_function + self.step() <= IN_FUNCTION_SECONDS {
            Next::Poll(self.step())
        } else {
            // Overdue: straight back into the function, through a zero Wait.
            Next::Wait(0)
        }
    }
}

/// The change a pending poll waits for, and how long it has been under way.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Awaiting {
    pub expected: Expected,
    /// Simulated seconds since the change started: 0 when this call started it.
    pub waited: u32,
}

impl Awaiting {
    pub fn started_now(expected: Expected) -> Self {
        Self { expected, waited: 0 }
    }

    /// A change whose start is not recorded anywhere (mount targets have no creation time),
    /// found pending by a poll that the plan timed: it may end any time now.
    pub fn due(expected: Expected) -> Self {
        Self {
            expected,
            waited: expected.first_poll(),
        }
    }
}

/// Polls `check` until it is ready or the plan says to leave it to a Wait state. `check` returns
/// the poll and, while pending, the change it awaits (`None` when the wait is not a change of
/// ours, e.g. a lease held by another run: the poll's own `nextPollSeconds` stands). With
/// `POLL_SECONDS` set (the local stack's quick polls) nothing is waited for here.
pub async fn settle<T, F, Fut>(settings: &Settings, mut check: F) -> Result<Poll<T>>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<(Poll<T>, Option<Awaiting>)>>,
{
    let started = Instant::now();
    loop {
        let (mut poll, awaiting) = check().await?;
        let Some(awaiting) = awaiting.filter(|_| !poll.ready) else {
            return Ok(poll);
        };
        if let Some(seconds) = settings.poll_seconds_override {
            poll.next_poll_seconds = seconds;
            return Ok(poll);
        }
        let in_function = settings.time_scale.simulated(started.elapsed());
        match awaiting.expected.next(awaiting.waited, in_function) {
            Next::Wait(seconds) => {
                poll.next_poll_seconds = seconds;
                return Ok(poll);
            }
            Next::Poll(seconds) => tokio::time::sleep(settings.time_scale.real(f64::from(seconds))).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_poll_comes_near_the_expected_end() {
        assert_eq!(FARGATE_PROFILE.first_poll(), 145);
        assert_eq!(MOUNT_TARGETS.first_poll(), 60);
        assert_eq!(FARGATE_POD.first_poll(), 60);
        assert_eq!(FARGATE_PROFILE.next(0, 0), Next::Wait(145));
        // A pod created 20 s ago (a re-run finding it): the rest of the way.
        assert_eq!(FARGATE_POD.next(20, 0), Next::Wait(40));
    }

    #[test]
    fn one_in_function_wait_covers_the_median_and_the_low_case() {
        for expected in [FARGATE_PROFILE, MOUNT_TARGETS, FARGATE_POD] {
            let first = expected.first_poll();
            assert!(first <= expected.median && expected.median + MEDIAN_MARGIN <= first + IN_FUNCTION_SECONDS);
            assert!(first >= expected.low);
            assert_eq!(expected.next(first, 0), Next::Poll(expected.step()));
        }
    }

    #[test]
    fn short_changes_are_waited_for_in_the_function() {
        for expected in [FILE_SYSTEM, CROSS_READ, CLAIM_BINDING] {
            assert_eq!(expected.next(0, 0), Next::Poll(expected.step()));
        }
    }

    #[test]
    fn an_overdue_change_goes_back_through_a_zero_wait_when_the_function_has_waited_long_enough() {
        assert_eq!(FARGATE_PROFILE.next(200, 44), Next::Wait(0));
        assert_eq!(FARGATE_PROFILE.next(300, 0), Next::Poll(5));
    }
}
