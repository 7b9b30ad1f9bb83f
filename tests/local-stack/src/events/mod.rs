//! EventBridge, as far as the template uses it: the rules it defines, the CloudTrail events of the
//! API calls they listen to, and the functions' schedules. moto cannot do this part (its
//! `PutEvents` fails on Step Functions targets, its schedules never fire, and its EKS emits no
//! events), so the stack does it, from what `template.yaml` says ([`crate::template`]).

mod bus;
mod cloudtrail;
mod pattern;
mod schedule;

pub use bus::{EventBus, Rule};
pub use cloudtrail::{ApiCall, Outcome, event as cloudtrail_event};
pub use pattern::{Pattern, PatternError};
pub use schedule::Schedule;

use crate::ids::uuid;

/// EventBridge's `time`: UTC, whole seconds (`2026-11-25T09:58:41Z`).
fn event_time() -> String {
    let now = jiff::Timestamp::now();
    now.round(jiff::Unit::Second).unwrap_or(now).to_string()
}
