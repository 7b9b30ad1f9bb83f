//! A function's `Schedule` event: a background task that invokes the function with a "Scheduled
//! Event" once per period, the first time one period after it starts (EventBridge's first run of a
//! new rate rule also comes up to one period later). Invocations do not overlap: a slow one delays
//! the next. Dropping the [`Schedule`] stops it.

use std::time::Duration;

use efs_fargate_core::functions::Function;
use serde_json::json;
use tokio::task::JoinHandle;
use tokio::time::{MissedTickBehavior, interval_at};

use super::{EventBus, event_time, uuid};
use crate::invoke::Functions;

/// A running schedule.
#[derive(Debug)]
pub struct Schedule {
    task: JoinHandle<()>,
}

impl Schedule {
    /// Invokes `function` every `period` under the rule `rule` of `bus`'s account and region.
    pub fn start(functions: Functions, function: Function, rule: &str, period: Duration, bus: &EventBus) -> Self {
        let rule_arn = format!("arn:aws:events:{}:{}:rule/{rule}", bus.region(), bus.account());
        let (account, region) = (bus.account().to_string(), bus.region().to_string());
        tracing::info!(rule, function = function.name(), ?period, "schedule started");
        let task = tokio::spawn(async move {
            let mut ticks = interval_at(tokio::time::Instant::now() + period, period);
            ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
            loop {
                ticks.tick().await;
                let event = json!({
                    "version": "0",
                    "id": uuid(),
                    "detail-type": "Scheduled Event",
                    "source": "aws.events",
                    "account": account,
                    "time": event_time(jiff::Timestamp::now()),
                    "region": region,
                    "resources": [rule_arn],
                    "detail": {},
                });
                // The outcome is logged by the invocation itself, as Lambda's logs would show it.
                let _ = functions.invoke(function, event).await;
            }
        });
        Self { task }
    }
}

impl Drop for Schedule {
    fn drop(&mut self) {
        self.task.abort();
    }
}
