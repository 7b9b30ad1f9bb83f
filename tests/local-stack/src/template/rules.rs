//! The template's EventBridge rules, from both places a SAM template declares them: standalone
//! `AWS::Events::Rule` resources with an `EventPattern` (targets: state machines by `!Ref`,
//! functions by `!GetAtt <Function>.Arn`), and functions' `EventBridgeRule` and `CloudWatchEvent`
//! events (their `Pattern`; SAM makes a rule targeting the function itself).

use std::collections::BTreeMap;

use efs_fargate_core::functions::Function;
use serde_json::Value as Json;
use serde_norway::Value as Yaml;

use super::{FunctionEvent, Template, TemplateError, served, shape};

/// What a rule delivers a matching event to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// A state machine's ARN: the event starts an execution.
    StateMachine(String),
    /// One of the workflow's functions: the event invokes it.
    Function(Function),
}

/// A rule with an event pattern, its intrinsics resolved.
#[derive(Clone, Debug, PartialEq)]
pub struct RuleDefinition {
    /// The rule's logical id (for a function's event, the one SAM gives the rule it makes).
    pub name: String,
    pub pattern: Json,
    /// `State: ENABLED` (CloudFormation's default when absent), and for SAM's events `Enabled`.
    pub enabled: bool,
    pub targets: Vec<Target>,
}

/// Target settings that change what is delivered: the local bus delivers the event as it is, so a
/// template using one of them is refused rather than run differently.
const INPUT_SETTINGS: [&str; 3] = ["Input", "InputPath", "InputTransformer"];

impl Template {
    /// Every rule with an event pattern: the standalone ones, then the functions' events; `refs`
    /// gives what a `!Ref` to a resource stands for (parameters resolve to their defaults).
    pub fn rules(&self, refs: &BTreeMap<String, String>) -> Result<Vec<RuleDefinition>, TemplateError> {
        let mut rules = Vec::new();
        for (name, resource) in self.resources()? {
            let properties = &resource["Properties"];
            if resource["Type"].as_str() == Some("AWS::Events::Rule") && properties.get("EventPattern").is_some() {
                rules.push(self.standalone_rule(name, properties, refs)?);
            }
        }
        for event in self.function_events(&["EventBridgeRule", "CloudWatchEvent"])? {
            rules.push(self.function_rule(&event, refs)?);
        }
        Ok(rules)
    }

    fn standalone_rule(
        &self,
        name: &str,
        properties: &Yaml,
        refs: &BTreeMap<String, String>,
    ) -> Result<RuleDefinition, TemplateError> {
        let at = format!("Resources.{name}.Properties");
        let targets = properties["Targets"]
            .as_sequence()
            .ok_or_else(|| shape(format!("{at}.Targets"), "is not a list"))?
            .iter()
            .enumerate()
            .map(|(i, target)| {
                let at = format!("{at}.Targets[{i}]");
                refuse_input_settings(target, &at)?;
                self.target(&target["Arn"], &format!("{at}.Arn"), refs)
            })
            .collect::<Result<_, _>>()?;
        Ok(RuleDefinition {
            name: name.to_string(),
            pattern: self.to_json(&properties["EventPattern"], &format!("{at}.EventPattern"), refs)?,
            enabled: state(properties, &at)?,
            targets,
        })
    }

    fn function_rule(
        &self,
        event: &FunctionEvent<'_>,
        refs: &BTreeMap<String, String>,
    ) -> Result<RuleDefinition, TemplateError> {
        let at = format!("{}.Properties", event.at());
        let properties = &event.definition["Properties"];
        refuse_input_settings(properties, &at)?;
        let pattern = properties
            .get("Pattern")
            .ok_or_else(|| shape(format!("{at}.Pattern"), "is missing"))?;
        let enabled = match properties.get("Enabled") {
            None => true,
            Some(Yaml::Bool(enabled)) => *enabled,
            Some(_) => return Err(shape(format!("{at}.Enabled"), "is not a boolean")),
        };
        Ok(RuleDefinition {
            name: event.rule_name(),
            pattern: self.to_json(pattern, &format!("{at}.Pattern"), refs)?,
            enabled: enabled && state(properties, &at)?,
            targets: vec![Target::Function(workflow_function(event.function, event.resource)?)],
        })
    }

    /// A standalone rule's target `Arn`: `!GetAtt <Function>.Arn` is one of the workflow's
    /// functions, anything else must resolve to a state machine's ARN.
    fn target(&self, arn: &Yaml, at: &str, refs: &BTreeMap<String, String>) -> Result<Target, TemplateError> {
        if let Yaml::Tagged(tagged) = arn
            && tagged.tag == "GetAtt"
        {
            let function = match &tagged.value {
                Yaml::String(reference) => reference.strip_suffix(".Arn"),
                Yaml::Sequence(parts) => match &parts[..] {
                    [Yaml::String(name), Yaml::String(attribute)] if attribute == "Arn" => Some(name.as_str()),
                    _ => None,
                },
                _ => None,
            }
            .ok_or_else(|| shape(at, "!GetAtt is resolved by the local stack for a function's Arn only"))?;
            let resource = self.resource(function, "AWS::Serverless::Function")?;
            return Ok(Target::Function(workflow_function(function, resource)?));
        }
        match self.to_json(arn, at, refs)? {
            Json::String(arn) => Ok(Target::StateMachine(arn)),
            _ => Err(shape(at, "is not a string")),
        }
    }
}

/// `State`: ENABLED when absent, as CloudFormation and SAM default it.
fn state(properties: &Yaml, at: &str) -> Result<bool, TemplateError> {
    match properties.get("State").map(Yaml::as_str) {
        None | Some(Some("ENABLED")) => Ok(true),
        Some(Some("DISABLED")) => Ok(false),
        Some(_) => Err(shape(format!("{at}.State"), "is neither ENABLED nor DISABLED")),
    }
}

fn refuse_input_settings(properties: &Yaml, at: &str) -> Result<(), TemplateError> {
    match INPUT_SETTINGS
        .iter()
        .find(|setting| properties.get(**setting).is_some())
    {
        Some(setting) => Err(shape(
            format!("{at}.{setting}"),
            "is not applied by the local stack, which delivers the event unchanged",
        )),
        None => Ok(()),
    }
}

/// The workflow function an `AWS::Serverless::Function` serves, as its `EFS_WORKFLOW_FUNCTION`
/// selects it in the Lambda binary.
fn workflow_function(logical_id: &str, resource: &Yaml) -> Result<Function, TemplateError> {
    let name = served(logical_id, resource)?;
    Function::from_name(name).ok_or_else(|| {
        shape(
            format!("Resources.{logical_id}.Properties.Environment.Variables"),
            format!("`{name}` is none of the workflow's functions"),
        )
    })
}
