//! What the local stack takes from `template.yaml` itself, so that it runs what SAM deploys and
//! cannot drift from it: each state machine's definition file, the EventBridge rules that start
//! state machines (pattern, state, targets), the functions (which one each serves) and their
//! schedules.
//!
//! The template is CloudFormation YAML: short-form intrinsics (`!Ref`, `!GetAtt`, `!Sub`) are YAML
//! tags, which the parser keeps as tagged values. Only the parts the stack reads are converted, and
//! in them only `!Ref` is resolved (a parameter to its default, a resource to what the stack made of
//! it); any other intrinsic there is refused with its path, rather than guessed at.

mod dashboard;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use efs_fargate_core::functions::FUNCTION_ENV;
use serde_json::Value as Json;
use serde_norway::Value as Yaml;

#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    #[error("reading {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("template.yaml is not valid YAML: {0}")]
    Parse(#[from] serde_norway::Error),
    #[error("template.yaml, {at}: {message}")]
    Shape { at: String, message: String },
}

fn shape(at: impl Into<String>, message: impl Into<String>) -> TemplateError {
    TemplateError::Shape {
        at: at.into(),
        message: message.into(),
    }
}

/// An `AWS::Events::Rule` with an event pattern, its `!Ref`s resolved.
#[derive(Clone, Debug, PartialEq)]
pub struct RuleDefinition {
    /// The rule's logical id.
    pub name: String,
    pub pattern: Json,
    /// `State: ENABLED` (CloudFormation's default when absent).
    pub enabled: bool,
    /// Each target's `Arn`.
    pub targets: Vec<String>,
}

/// A function's `Schedule` event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScheduleDefinition {
    /// The function's logical id and the event's name, as SAM names the rule it makes.
    pub name: String,
    /// The workflow function it runs: its `EFS_WORKFLOW_FUNCTION`, a name of
    /// [`efs_fargate_core::functions::Function`].
    pub function: String,
    /// The rate expression as written, after `!Ref` (`rate(15 minutes)`).
    pub expression: String,
    pub rate: Duration,
}

/// An `AWS::Serverless::Function`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FunctionDefinition {
    pub logical_id: String,
    /// `Metadata.BuildProperties.Binary`: the Cargo binary SAM builds for it.
    pub binary: String,
    /// `Properties.Environment.Variables.EFS_WORKFLOW_FUNCTION`: which function the binary serves.
    pub function: String,
}

/// The parsed template.
#[derive(Debug)]
pub struct Template {
    root: Yaml,
}

impl Template {
    /// `template.yaml` at the repository's root.
    pub fn load_repo() -> Result<Self, TemplateError> {
        Self::load(&workflow_tests::server::repo_root().join("template.yaml"))
    }

    pub fn load(path: &Path) -> Result<Self, TemplateError> {
        let text = std::fs::read_to_string(path).map_err(|source| TemplateError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Self::parse(&text)
    }

    pub fn parse(text: &str) -> Result<Self, TemplateError> {
        Ok(Self {
            root: serde_norway::from_str(text)?,
        })
    }

    /// The `DefinitionUri` of the `AWS::Serverless::StateMachine` `logical_id`.
    pub fn definition_uri(&self, logical_id: &str) -> Result<&str, TemplateError> {
        let at = format!("Resources.{logical_id}.Properties.DefinitionUri");
        self.resource(logical_id, "AWS::Serverless::StateMachine")?["Properties"]["DefinitionUri"]
            .as_str()
            .ok_or_else(|| shape(at, "is not a file path"))
    }

    /// Every `AWS::Events::Rule` with an `EventPattern`; `refs` gives what a `!Ref` to a resource
    /// stands for (parameters resolve to their defaults).
    pub fn rules(&self, refs: &BTreeMap<String, String>) -> Result<Vec<RuleDefinition>, TemplateError> {
        let mut rules = Vec::new();
        for (name, resource) in self.resources()? {
            let properties = &resource["Properties"];
            if resource["Type"].as_str() != Some("AWS::Events::Rule") || properties.get("EventPattern").is_none() {
                continue;
            }
            let at = format!("Resources.{name}.Properties");
            let pattern = self.to_json(&properties["EventPattern"], &format!("{at}.EventPattern"), refs)?;
            let enabled = match properties.get("State").map(Yaml::as_str) {
                None | Some(Some("ENABLED")) => true,
                Some(Some("DISABLED")) => false,
                Some(_) => return Err(shape(format!("{at}.State"), "is neither ENABLED nor DISABLED")),
            };
            let targets = properties["Targets"]
                .as_sequence()
                .ok_or_else(|| shape(format!("{at}.Targets"), "is not a list"))?
                .iter()
                .enumerate()
                .map(|(i, target)| {
                    let at = format!("{at}.Targets[{i}].Arn");
                    match self.to_json(&target["Arn"], &at, refs)? {
                        Json::String(arn) => Ok(arn),
                        _ => Err(shape(at, "is not a string")),
                    }
                })
                .collect::<Result<_, _>>()?;
            rules.push(RuleDefinition {
                name: name.to_string(),
                pattern,
                enabled,
                targets,
            });
        }
        Ok(rules)
    }

    /// Every `AWS::Serverless::Function`, with the binary it runs and the function it serves.
    pub fn functions(&self) -> Result<Vec<FunctionDefinition>, TemplateError> {
        self.resources()?
            .filter(|(_, resource)| resource["Type"].as_str() == Some("AWS::Serverless::Function"))
            .map(|(logical_id, resource)| {
                let text = |value: &Yaml, at: &str| {
                    value
                        .as_str()
                        .map(str::to_string)
                        .ok_or_else(|| shape(format!("Resources.{logical_id}.{at}"), "is missing or not a string"))
                };
                Ok(FunctionDefinition {
                    logical_id: logical_id.to_string(),
                    binary: text(
                        &resource["Metadata"]["BuildProperties"]["Binary"],
                        "Metadata.BuildProperties.Binary",
                    )?,
                    function: text(
                        &resource["Properties"]["Environment"]["Variables"][FUNCTION_ENV],
                        &format!("Properties.Environment.Variables.{FUNCTION_ENV}"),
                    )?,
                })
            })
            .collect()
    }

    /// Every `Schedule` event of an `AWS::Serverless::Function`.
    pub fn schedules(&self) -> Result<Vec<ScheduleDefinition>, TemplateError> {
        let mut schedules = Vec::new();
        for (function, resource) in self.resources()? {
            if resource["Type"].as_str() != Some("AWS::Serverless::Function") {
                continue;
            }
            let Some(events) = resource["Properties"]["Events"].as_mapping() else {
                continue;
            };
            for (event, definition) in events {
                if definition["Type"].as_str() != Some("Schedule") {
                    continue;
                }
                let event = event.as_str().unwrap_or_default();
                let at = format!("Resources.{function}.Properties.Events.{event}.Properties.Schedule");
                let Json::String(expression) =
                    self.to_json(&definition["Properties"]["Schedule"], &at, &BTreeMap::new())?
                else {
                    return Err(shape(at, "is not a string"));
                };
                let rate = rate(&expression).ok_or_else(|| {
                    shape(
                        &at,
                        format!("`{expression}` is not a rate expression (the local stack runs no cron schedules)"),
                    )
                })?;
                let served = resource["Properties"]["Environment"]["Variables"][FUNCTION_ENV]
                    .as_str()
                    .ok_or_else(|| {
                        shape(
                            format!("Resources.{function}.Properties.Environment.Variables.{FUNCTION_ENV}"),
                            "is missing",
                        )
                    })?;
                schedules.push(ScheduleDefinition {
                    name: format!("{function}{event}"),
                    function: served.to_string(),
                    expression,
                    rate,
                });
            }
        }
        Ok(schedules)
    }

    fn resources(&self) -> Result<impl Iterator<Item = (&str, &Yaml)>, TemplateError> {
        let resources = self.root["Resources"]
            .as_mapping()
            .ok_or_else(|| shape("Resources", "is not a mapping"))?;
        Ok(resources
            .iter()
            .filter_map(|(name, resource)| Some((name.as_str()?, resource))))
    }

    fn resource(&self, logical_id: &str, kind: &str) -> Result<&Yaml, TemplateError> {
        let resource = &self.root["Resources"][logical_id];
        if resource["Type"].as_str() == Some(kind) {
            Ok(resource)
        } else {
            Err(shape(format!("Resources.{logical_id}"), format!("is not an {kind}")))
        }
    }

    /// `value` as JSON, each `!Ref` resolved through the parameters' defaults and `refs`.
    fn to_json(&self, value: &Yaml, at: &str, refs: &BTreeMap<String, String>) -> Result<Json, TemplateError> {
        Ok(match value {
            Yaml::Null => Json::Null,
            Yaml::Bool(b) => Json::Bool(*b),
            Yaml::Number(n) => serde_json::to_value(n).map_err(|e| shape(at, e.to_string()))?,
            Yaml::String(s) => Json::String(s.clone()),
            Yaml::Sequence(items) => Json::Array(
                items
                    .iter()
                    .enumerate()
                    .map(|(i, item)| self.to_json(item, &format!("{at}[{i}]"), refs))
                    .collect::<Result<_, _>>()?,
            ),
            Yaml::Mapping(entries) => Json::Object(
                entries
                    .iter()
                    .map(|(key, item)| {
                        let key = key
                            .as_str()
                            .ok_or_else(|| shape(at, "has a key that is not a string"))?;
                        Ok((key.to_string(), self.to_json(item, &format!("{at}.{key}"), refs)?))
                    })
                    .collect::<Result<_, TemplateError>>()?,
            ),
            Yaml::Tagged(tagged) if tagged.tag == "Ref" => {
                let name = tagged
                    .value
                    .as_str()
                    .ok_or_else(|| shape(at, "!Ref names no resource or parameter"))?;
                Json::String(self.resolve(name, refs).ok_or_else(|| {
                    shape(
                        at,
                        format!("!Ref {name}: neither a parameter with a default nor a resource the stack made"),
                    )
                })?)
            }
            Yaml::Tagged(tagged) => {
                return Err(shape(at, format!("{} is not resolved by the local stack", tagged.tag)));
            }
        })
    }

    fn resolve(&self, name: &str, refs: &BTreeMap<String, String>) -> Option<String> {
        let default = &self.root["Parameters"][name]["Default"];
        match default {
            Yaml::String(s) => Some(s.clone()),
            Yaml::Number(n) => Some(n.to_string()),
            _ => refs.get(name).cloned(),
        }
    }
}

/// The period of an EventBridge rate expression: `rate(1 minute)`, `rate(15 minutes)`,
/// `rate(2 hours)`, `rate(1 day)`.
pub fn rate(expression: &str) -> Option<Duration> {
    let inner = expression.strip_prefix("rate(")?.strip_suffix(')')?;
    let (value, unit) = inner.split_once(' ')?;
    let value: u64 = value.parse().ok().filter(|v| *v > 0)?;
    // EventBridge wants the singular for 1 and the plural otherwise.
    let (singular, plural, seconds) = match unit.trim_end_matches('s') {
        "minute" => ("minute", "minutes", 60),
        "hour" => ("hour", "hours", 3_600),
        "day" => ("day", "days", 86_400),
        _ => return None,
    };
    (unit == if value == 1 { singular } else { plural }).then(|| Duration::from_secs(value * seconds))
}

#[cfg(test)]
mod tests;
