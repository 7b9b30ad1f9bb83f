//! The account's default event bus, as far as the workflow uses it: rules read from the template,
//! each with a pattern and Step Functions targets. An event put on the bus starts an execution of
//! every target of every enabled rule whose pattern matches, with the event as input, under a fresh
//! UUID as name, as EventBridge names the executions it starts.

use std::sync::{Arc, RwLock};

use serde_json::Value;

use super::pattern::{Pattern, PatternError};
use super::uuid;
use crate::template::RuleDefinition;

/// A rule on the bus.
#[derive(Clone, Debug)]
pub struct Rule {
    pub name: String,
    pub pattern: Pattern,
    /// State machine ARNs.
    pub targets: Vec<String>,
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

/// What one matching rule started.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Delivery {
    pub rule: String,
    pub execution_arn: String,
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

    /// Delivers `event` in the background, as EventBridge does after the call that caused it has
    /// been answered; a failed delivery is logged.
    pub fn put(&self, event: Value) {
        let bus = self.clone();
        tokio::spawn(async move {
            for delivery in bus.deliver(&event).await {
                tracing::info!(
                    rule = delivery.rule,
                    execution = delivery.execution_arn,
                    "event delivered"
                );
            }
        });
    }

    /// Starts every matching rule's targets now and says what was started.
    pub async fn deliver(&self, event: &Value) -> Vec<Delivery> {
        let matching: Vec<Rule> = {
            let rules = self.inner.rules.read().unwrap_or_else(|poisoned| poisoned.into_inner());
            rules.iter().filter(|r| r.pattern.matches(event)).cloned().collect()
        };
        let mut deliveries = Vec::new();
        for rule in matching {
            for target in &rule.targets {
                let started = self
                    .inner
                    .sfn
                    .start_execution()
                    .state_machine_arn(target)
                    .name(uuid())
                    .input(event.to_string())
                    .send()
                    .await;
                match started {
                    Ok(started) => deliveries.push(Delivery {
                        rule: rule.name.clone(),
                        execution_arn: started.execution_arn().to_string(),
                    }),
                    Err(error) => tracing::error!(
                        rule = rule.name,
                        target,
                        error = %aws_sdk_sfn::error::DisplayErrorContext(error),
                        "event delivery failed"
                    ),
                }
            }
        }
        deliveries
    }
}
