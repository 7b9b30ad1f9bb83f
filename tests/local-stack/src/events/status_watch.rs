//! Step Functions' status-change events, which moto never emits: a background task that puts one
//! "Step Functions Execution Status Change" event on the bus for every execution of the watched
//! state machines that has left RUNNING, once per execution (an ended execution never changes
//! again). The RUNNING event AWS also sends is left out: no rule of the template listens to it.
//!
//! It polls moto (ListExecutions per state machine, then DescribeExecution for each newly ended
//! execution) rather than watching the gateway's traffic: an execution also ends on its own (it
//! succeeds, fails or times out inside moto's engine), and StopExecution reaches moto without
//! the gateway too (the stack's own clients), so only moto knows every end.
//! A poll is one cheap request per state machine, and the interval adds at most that much to an
//! event's delay, about what EventBridge takes to deliver one.

use std::collections::HashSet;
use std::time::Duration;

use aws_sdk_sfn::error::DisplayErrorContext;
use aws_sdk_sfn::types::{ExecutionListItem, ExecutionStatus};
use jiff::Timestamp;
use tokio::task::JoinHandle;
use tokio::time::MissedTickBehavior;

use super::{EventBus, execution_status};

/// A running watch; dropping it stops it.
#[derive(Debug)]
pub struct StatusWatch {
    task: JoinHandle<()>,
}

impl StatusWatch {
    /// Watches the executions of `state_machines` (ARNs) every `interval`, putting their status
    /// changes on `bus`. `sfn` goes straight to moto: these polls are not the handlers' calls.
    pub fn start(sfn: aws_sdk_sfn::Client, state_machines: Vec<String>, bus: &EventBus, interval: Duration) -> Self {
        let bus = bus.clone();
        tracing::info!(?state_machines, ?interval, "watching executions for status changes");
        let task = tokio::spawn(async move {
            let mut announced = HashSet::new();
            let mut ticks = tokio::time::interval(interval);
            ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
            loop {
                ticks.tick().await;
                for state_machine in &state_machines {
                    announce_ended(&sfn, state_machine, &bus, &mut announced).await;
                }
            }
        });
        Self { task }
    }
}

impl Drop for StatusWatch {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Puts an event on `bus` for every ended execution of `state_machine` not in `announced`, and adds
/// it there. A failed call is logged and tried again on the next poll.
async fn announce_ended(
    sfn: &aws_sdk_sfn::Client,
    state_machine: &str,
    bus: &EventBus,
    announced: &mut HashSet<String>,
) {
    let executions = match list_executions(sfn, state_machine).await {
        Ok(executions) => executions,
        Err(error) => {
            tracing::warn!(state_machine, %error, "ListExecutions failed");
            return;
        }
    };
    let ended = executions.iter().filter(|e| *e.status() != ExecutionStatus::Running);
    for arn in ended.map(ExecutionListItem::execution_arn) {
        if announced.contains(arn) {
            continue;
        }
        match status_change(sfn, arn, bus).await {
            Ok(event) => {
                bus.put(event);
                announced.insert(arn.to_string());
            }
            Err(error) => tracing::warn!(execution = arn, %error, "DescribeExecution failed"),
        }
    }
}

/// The status-change event of execution `arn` as it stands now, as EventBridge would deliver it.
pub async fn status_change(sfn: &aws_sdk_sfn::Client, arn: &str, bus: &EventBus) -> Result<serde_json::Value, String> {
    let described = sfn
        .describe_execution()
        .execution_arn(arn)
        .send()
        .await
        .map_err(|e| DisplayErrorContext(e).to_string())?;
    tracing::info!(execution = arn, status = %described.status(), "execution status change");
    Ok(execution_status::event(
        &described,
        Timestamp::now(),
        bus.account(),
        bus.region(),
    ))
}

async fn list_executions(sfn: &aws_sdk_sfn::Client, state_machine: &str) -> Result<Vec<ExecutionListItem>, String> {
    let mut pages = sfn
        .list_executions()
        .state_machine_arn(state_machine)
        .into_paginator()
        .items()
        .send();
    let mut executions = Vec::new();
    while let Some(execution) = pages.next().await {
        executions.push(execution.map_err(|e| DisplayErrorContext(e).to_string())?);
    }
    Ok(executions)
}
