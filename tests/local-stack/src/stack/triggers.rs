//! The template's triggers on the stack: its EventBridge rules on the gateway's event bus, and its
//! functions' schedules running on the stack's clock (each period times `time_scale`, as the fake
//! cluster's clock is scaled), so a `rate(15 minutes)` reaper sweeps every 90 s at the demo's 0.1.

use std::collections::BTreeMap;
use std::time::Duration;

use efs_fargate_core::functions::Function;

use super::StackError;
use crate::Functions;
use crate::events::{EventBus, Rule, Schedule};
use crate::template::{ScheduleDefinition, Template};

const MIN_PERIOD: Duration = Duration::from_millis(100);

/// A schedule of the template, running.
#[derive(Debug)]
pub struct Scheduled {
    pub definition: ScheduleDefinition,
    /// The real time between two invocations.
    pub period: Duration,
    _running: Schedule,
}

/// Puts every enabled rule of the template on `bus`; `state_machines` maps the state machines'
/// logical ids to their ARNs, which is what the rules' `!Ref` targets resolve to (function targets
/// are invoked through the gateway the bus serves with).
pub(super) fn put_rules(
    template: &Template,
    bus: &EventBus,
    state_machines: &BTreeMap<String, String>,
) -> Result<Vec<String>, StackError> {
    let mut names = Vec::new();
    for definition in template.rules(state_machines)? {
        if definition.enabled {
            names.push(definition.name.clone());
            bus.put_rule(Rule::try_from(definition)?);
        }
    }
    Ok(names)
}

/// Starts every schedule of the template.
pub(super) fn start_schedules(
    template: &Template,
    functions: &Functions,
    bus: &EventBus,
    time_scale: f64,
) -> Result<Vec<Scheduled>, StackError> {
    template
        .schedules()?
        .into_iter()
        .map(|definition| {
            let function = Function::from_name(&definition.function)
                .ok_or_else(|| StackError::UnknownFunction(definition.function.clone()))?;
            // A zero period (time_scale 0) would make the task spin.
            let period = definition.rate.mul_f64(time_scale).max(MIN_PERIOD);
            let running = Schedule::start(functions.clone(), function, &definition.name, period, bus);
            Ok(Scheduled {
                definition,
                period,
                _running: running,
            })
        })
        .collect()
}
