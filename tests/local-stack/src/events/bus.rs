//! The account's default event bus, as far as the workflow uses it: rules read from the template,
//! each with a pattern and targets. An event put on the bus is delivered, after the call that
//! caused it has been answered, to every target of every enabled rule whose pattern matches: a
//! state machine gets an execution with the event as input, under a fresh UUID as name, as
//! EventBridge names the executions it starts; a function is invoked in-process with the event.

use std::sync::{Arc, OnceLock, RwLock};
use std::time::Duration;

use efs_fargate_core::functions::Function;
use serde_json::Value;

use super::pattern::{Pattern, PatternError};
use super::uuid;
use crate::invoke::{Functions, WeakFunctions};
use crate::template::{RuleDefinition, Target};

/// Attempts per delivery. EventBridge retries a target it could not reach (the rule's
/// RetryPolicy), and Lambda retries an asynchronous invocation that ended in a function error
/// twice; both wait minutes between attempts, the local bus a short doubling backoff.
const ATTEMPTS: u32 = 3;
const FIRST_BACKOFF: Duration = Duration::from_millis(250);

/// A rule on the bus.
#[derive(Clone, Debug)]
pub struct Rule {
    pub name: String,
    pub pattern: Pattern,
    pub targets: Vec<Target>,
}

impl TryFrom<RuleDefinition> for Rule {
    type Error = PatternError;

    fn try_from(definition: RuleDefinition) -> Result<Self, Self::Error> {
        Ok(Self {
            name: definition.name,
            pattern: Pattern::new(definition.pattern)?,
            targets: definition.targets,
        })
    }
}

/// Why one attempt at a delivery failed.
#[derive(Debug, thiserror::Error)]
enum DeliveryError {
    #[error("StartExecution: {0}")]
    StartExecution(String),
    #[error("function error {error_type}: {message}")]
    Function { error_type: String, message: String },
    /// Not retried: nothing would change.
    #[error("no gateway runs the functions (never connected, or shut down)")]
    NoFunctions,
}

/// A handle on the bus; clones share it.
#[derive(Clone, Debug)]
pub struct EventBus {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    account: String,
    region: String,
    /// Straight to moto: deliveries are not the handlers' calls, so no fault applies to them.
    sfn: aws_sdk_sfn::Client,
    /// The gateway's functions, once it serves; weak, because the gateway holds the bus.
    functions: OnceLock<WeakFunctions>,
    rules: RwLock<Vec<Rule>>,
}

impl EventBus {
    /// A bus without rules: events are dropped until [`Self::put_rule`].
    pub fn new(sfn: aws_sdk_sfn::Client, account: impl Into<String>, region: impl Into<String>) -> Self {
        Self {
            inner: Arc::new(Inner {
                account: account.into(),
                region: region.into(),
                sfn,
                functions: OnceLock::new(),
                rules: RwLock::new(Vec::new()),
            }),
        }
    }

    pub fn account(&self) -> &str {
        &self.inner.account
    }

    pub fn region(&self) -> &str {
        &self.inner.region
    }

    /// Lets the bus invoke `functions`, the targets of function rules (done by the gateway that
    /// serves with this bus). The first gateway connected keeps them.
    pub(crate) fn connect(&self, functions: &Functions) {
        if self.inner.functions.set(functions.downgrade()).is_err() {
            tracing::warn!("the event bus already invokes another gateway's functions");
        }
    }

    pub fn put_rule(&self, rule: Rule) {
        tracing::info!(rule = rule.name, targets = ?rule.targets, "event rule put");
        let mut rules = self
            .inner
            .rules
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        rules.retain(|r| r.name != rule.name);
        rules.push(rule);
    }

    /// Delivers `event` to every matching rule's targets in the background, each on its own, as
    /// EventBridge does once the call that caused it has been answered; the outcome is logged.
    pub fn put(&self, event: Value) {
        let event = Arc::new(event);
        let matching: Vec<(String, Target)> = {
            let rules = self.inner.rules.read().unwrap_or_else(|poisoned| poisoned.into_inner());
            rules
                .iter()
                .filter(|rule| rule.pattern.matches(&event))
                .flat_map(|rule| rule.targets.iter().map(|target| (rule.name.clone(), target.clone())))
                .collect()
        };
        for (rule, target) in matching {
            let (bus, event) = (self.clone(), event.clone());
            tokio::spawn(async move { bus.deliver(&rule, &target, &event).await });
        }
    }

    async fn deliver(&self, rule: &str, target: &Target, event: &Value) {
        // One name for every attempt: a retried StartExecution that had in fact started the
        // execution finds it again instead of starting a second one.
        let name = uuid();
        let mut backoff = FIRST_BACKOFF;
        for attempt in 1..=ATTEMPTS {
            let outcome = match target {
                Target::StateMachine(arn) => self.start_execution(arn, &name, event).await,
                Target::Function(function) => self.invoke(*function, event).await,
            };
            match outcome {
                Ok(delivered) => {
                    tracing::info!(rule, ?target, attempt, delivered, "event delivered");
                    return;
                }
                Err(error @ DeliveryError::NoFunctions) => {
                    tracing::error!(rule, ?target, %error, "event not delivered");
                    return;
                }
                Err(error) if attempt < ATTEMPTS => {
                    tracing::warn!(rule, ?target, attempt, %error, ?backoff, "event delivery failed; retrying");
                    tokio::time::sleep(backoff).await;
                    backoff *= 2;
                }
                Err(error) => tracing::error!(rule, ?target, attempt, %error, "event delivery failed; giving up"),
            }
        }
    }

    /// The started execution's ARN.
    async fn start_execution(&self, arn: &str, name: &str, event: &Value) -> Result<String, DeliveryError> {
        let started = self
            .inner
            .sfn
            .start_execution()
            .state_machine_arn(arn)
            .name(name)
            .input(event.to_string())
            .send()
            .await
            .map_err(|e| DeliveryError::StartExecution(aws_sdk_sfn::error::DisplayErrorContext(e).to_string()))?;
        Ok(started.execution_arn().to_string())
    }

    /// The function's output.
    async fn invoke(&self, function: Function, event: &Value) -> Result<String, DeliveryError> {
        let functions = self.inner.functions.get().ok_or(DeliveryError::NoFunctions)?;
        match functions.invoke(function, event.clone()).await {
            None => Err(DeliveryError::NoFunctions),
            Some(Ok(output)) => Ok(output.to_string()),
            Some(Err(diagnostic)) => Err(DeliveryError::Function {
                error_type: diagnostic.error_type,
                message: diagnostic.error_message,
            }),
        }
    }
}
