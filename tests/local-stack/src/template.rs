//! What the local stack takes from `template.yaml` itself, so that it runs what SAM deploys and
//! cannot drift from it: each state machine's definition file, the EventBridge rules (pattern,
//! state, targets: state machines and functions; see [`Template::rules`]), the functions (which one each
//! serves) and their schedules.
//!
//! The template is CloudFormation YAML: short-form intrinsics (`!Ref`, `!GetAtt`, `!Sub`) are YAML
//! tags, which the parser keeps as tagged values. Only the parts the stack reads are converted, and
//! in them only `!Ref` is resolved (a parameter to its default, a resource to what the stack made of
//! it), and `!GetAtt <Function>.Arn` where a rule targets a function; any other intrinsic there is
//! refused with its path, rather than guessed at.

mod dashboard;
mod policies;
mod rules;

pub use policies::Names;
pub use rules::{RuleDefinition, Target};

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

    /// Every `AWS::Serverless::Function`, with the binary it runs and the function it serves.
    pub fn functions(&self) -> Result<Vec<FunctionDefinition>, TemplateError> {
        self.resources()?
            .filter(|(_, resource)| resource["Type"].as_str() == Some("AWS::Serverless::Function"))
            .map(|(logical_id, resource)| {
                let binary = resource["Metadata"]["BuildProperties"]["Binary"]
                    .as_str()
                    .ok_or_else(|| missing_text(logical_id, "Metadata.BuildProperties.Binary"))?;
                Ok(FunctionDefinition {
                    logical_id: logical_id.to_string(),
                    binary: binary.to_string(),
                    function: served(logical_id, resource)?.to_string(),
                })
            })
            .collect()
    }

    /// Every `Schedule` event of an `AWS::Serverless::Function`.
    pub fn schedules(&self) -> Result<Vec<ScheduleDefinition>, TemplateError> {
        let mut schedules = Vec::new();
        for event in self.function_events(&["Schedule"])? {
            let at = format!("{}.Properties.Schedule", event.at());
            let Json::String(expression) =
                self.to_json(&event.definition["Properties"]["Schedule"], &at, &BTreeMap::new())?
            else {
                return Err(shape(at, "is not a string"));
            };
            let rate = rate(&expression).ok_or_else(|| {
                shape(
                    &at,
                    format!("`{expression}` is not a rate expression (the local stack runs no cron schedules)"),
                )
            })?;
            schedules.push(ScheduleDefinition {
                name: event.rule_name(),
                function: served(event.function, event.resource)?.to_string(),
                expression,
                rate,
            });
        }
        Ok(schedules)
    }

    /// The events of the `AWS::Serverless::Function`s whose `Type` is one of `kinds`.
    fn function_events<'a>(
        &'a self,
        kinds: &'a [&str],
    ) -> Result<impl Iterator<Item = FunctionEvent<'a>>, TemplateError> {
        Ok(self
            .resources()?
            .filter(|(_, resource)| resource["Type"].as_str() == Some("AWS::Serverless::Function"))
            .flat_map(|(function, resource)| {
                let events = resource["Properties"]["Events"].as_mapping().into_iter().flatten();
                events.filter_map(move |(name, definition)| {
                    Some(FunctionEvent {
                        function,
                        resource,
                        name: name.as_str()?,
                        definition,
                    })
                })
            })
            .filter(move |event| kinds.contains(&event.definition["Type"].as_str().unwrap_or_default())))
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

/// One event of an `AWS::Serverless::Function` (`Properties.Events.<name>`).
struct FunctionEvent<'a> {
    /// The function's logical id.
    function: &'a str,
    resource: &'a Yaml,
    name: &'a str,
    definition: &'a Yaml,
}

impl FunctionEvent<'_> {
    fn at(&self) -> String {
        format!("Resources.{}.Properties.Events.{}", self.function, self.name)
    }

    /// The logical id SAM gives the rule it makes for the event.
    fn rule_name(&self) -> String {
        format!("{}{}", self.function, self.name)
    }
}

/// The function an `AWS::Serverless::Function` serves: its `EFS_WORKFLOW_FUNCTION`.
fn served<'a>(logical_id: &str, resource: &'a Yaml) -> Result<&'a str, TemplateError> {
    resource["Properties"]["Environment"]["Variables"][FUNCTION_ENV]
        .as_str()
        .ok_or_else(|| missing_text(logical_id, &format!("Properties.Environment.Variables.{FUNCTION_ENV}")))
}

fn missing_text(logical_id: &str, at: &str) -> TemplateError {
    shape(format!("Resources.{logical_id}.{at}"), "is missing or not a string")
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
