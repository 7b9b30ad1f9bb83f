//! EventBridge, as far as the template uses it: the rules it defines, the events they listen to
//! (the CloudTrail events of API calls, Step Functions' execution status changes), and the
//! functions' schedules. moto cannot do this part (its `PutEvents` fails on Step Functions
//! targets, its schedules never fire, and neither its EKS nor its Step Functions emit events), so
//! the stack does it, from what `template.yaml` says ([`crate::template`]).

mod bus;
mod cloudtrail;
mod execution_status;
mod pattern;
mod schedule;
mod status_watch;

pub use bus::{EventBus, Rule};
pub use cloudtrail::{ApiCall, Outcome, event as cloudtrail_event};
pub use pattern::{Pattern, PatternError};
pub use schedule::Schedule;
pub use status_watch::{StatusWatch, status_change};

use crate::ids::uuid;

/// EventBridge's `time`: UTC, whole seconds (`2026-11-25T09:58:41Z`).
fn event_time(at: jiff::Timestamp) -> String {
    at.round(jiff::Unit::Second).unwrap_or(at).to_string()
}
