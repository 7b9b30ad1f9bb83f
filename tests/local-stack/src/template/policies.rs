//! The functions' IAM roles as `template.yaml` defines them: for each role a function runs as
//! (`Properties.Role: !GetAtt <Role>.Arn`), its inline policies, the customer managed policies it
//! names, and every `AWS::IAM::Policy`/`AWS::IAM::ManagedPolicy` attached to it through `Roles`,
//! with the intrinsics a policy uses resolved as CloudFormation would for the local stack: `!Sub`,
//! `!Ref`, `!GetAtt`, `!If` over the template's `Conditions`, and `AWS::NoValue`.
//!
//! A name the stack gives no value (a log group's ARN: the handlers never call CloudWatch Logs)
//! resolves to `unresolved:<name>`, which no request's resource or context value equals, so a
//! statement that needs it allows nothing: the local stack errs on the side of denying.

use std::collections::BTreeMap;

use serde_json::Value as Json;
use serde_norway::Value as Yaml;

use super::{Template, TemplateError, shape};

/// The values the stack gives the template's names: pseudo parameters (`AWS::Region`), resources
/// (`ClusterAccessRole`) and attributes (`ClusterAccessRole.Arn`). Parameters take their defaults.
pub type Names = BTreeMap<String, String>;

/// The logical id `value` names as `!GetAtt <LogicalId>.Arn`.
fn arn_of_resource(value: &Yaml) -> Option<String> {
    match value {
        Yaml::Tagged(tagged) if tagged.tag == "GetAtt" => tagged
            .value
            .as_str()
            .and_then(|v| v.strip_suffix(".Arn"))
            .map(str::to_string),
        _ => None,
    }
}

impl Template {
    /// Every role a function runs as, by logical id, with the workflow functions
    /// (`EFS_WORKFLOW_FUNCTION` names) that run as it.
    pub fn function_roles(&self) -> Result<BTreeMap<String, Vec<String>>, TemplateError> {
        let mut roles: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for function in self.functions()? {
            let at = format!("Resources.{}.Properties.Role", function.logical_id);
            let role = &self.root["Resources"][&function.logical_id]["Properties"]["Role"];
            let logical_id = arn_of_resource(role)
                .ok_or_else(|| shape(&at, "is not `!GetAtt <Role>.Arn` of a role in the template"))?;
            roles.entry(logical_id).or_default().push(function.function);
        }
        Ok(roles)
    }

    /// Every role whose trust policy lets other roles of the template assume it (`Principal: {AWS:
    /// [!GetAtt <Role>.Arn, ...]}`), by logical id, with the logical ids of those roles.
    pub fn assumable_roles(&self) -> BTreeMap<String, Vec<String>> {
        let mut roles = BTreeMap::new();
        let Some(resources) = self.root["Resources"].as_mapping() else {
            return roles;
        };
        for (logical_id, resource) in resources {
            let (Some(logical_id), Some("AWS::IAM::Role")) = (logical_id.as_str(), resource["Type"].as_str()) else {
                continue;
            };
            let statements = resource["Properties"]["AssumeRolePolicyDocument"]["Statement"].as_sequence();
            let principals: Vec<String> = statements
                .into_iter()
                .flatten()
                .filter(|statement| statement["Effect"].as_str() == Some("Allow"))
                .flat_map(|statement| match &statement["Principal"]["AWS"] {
                    Yaml::Sequence(items) => items.clone(),
                    single => vec![single.clone()],
                })
                .filter_map(|principal| arn_of_resource(&principal))
                .collect();
            if !principals.is_empty() {
                roles.insert(logical_id.to_string(), principals);
            }
        }
        roles
    }

    /// The policy documents of role `role`, resolved against `names`.
    pub fn role_documents(&self, role: &str, names: &Names) -> Result<Vec<Json>, TemplateError> {
        let resolver = Resolver { template: self, names };
        let properties = &self.resource(role, "AWS::IAM::Role")?["Properties"];
        let mut documents = Vec::new();
        for (i, policy) in properties["Policies"].as_sequence().into_iter().flatten().enumerate() {
            let at = format!("Resources.{role}.Properties.Policies[{i}].PolicyDocument");
            documents.extend(resolver.resolve(&policy["PolicyDocument"], &at)?);
        }
        for (i, arn) in properties["ManagedPolicyArns"]
            .as_sequence()
            .into_iter()
            .flatten()
            .enumerate()
        {
            let at = format!("Resources.{role}.Properties.ManagedPolicyArns[{i}]");
            let Yaml::Tagged(tagged) = arn else {
                return Err(shape(
                    at,
                    "names an AWS managed policy, which the local stack does not hold",
                ));
            };
            let Some(managed) = tagged.value.as_str().filter(|_| tagged.tag == "Ref") else {
                return Err(shape(at, "is not `!Ref` of a managed policy in the template"));
            };
            let policy = self.resource(managed, "AWS::IAM::ManagedPolicy")?;
            let at = format!("Resources.{managed}.Properties.PolicyDocument");
            documents.extend(resolver.resolve(&policy["Properties"]["PolicyDocument"], &at)?);
        }
        for (logical_id, resource) in self.resources()? {
            let kind = resource["Type"].as_str().unwrap_or_default();
            if !matches!(kind, "AWS::IAM::Policy" | "AWS::IAM::ManagedPolicy") {
                continue;
            }
            let attached = resource["Properties"]["Roles"]
                .as_sequence()
                .into_iter()
                .flatten()
                .any(|r| matches!(r, Yaml::Tagged(t) if t.tag == "Ref" && t.value.as_str() == Some(role)));
            if attached {
                let at = format!("Resources.{logical_id}.Properties.PolicyDocument");
                documents.extend(resolver.resolve(&resource["Properties"]["PolicyDocument"], &at)?);
            }
        }
        Ok(documents)
    }
}

struct Resolver<'a> {
    template: &'a Template,
    names: &'a Names,
}

impl Resolver<'_> {
    /// `value` as JSON; `None` for `!Ref AWS::NoValue` (the property or item is left out).
    fn resolve(&self, value: &Yaml, at: &str) -> Result<Option<Json>, TemplateError> {
        Ok(Some(match value {
            Yaml::Null => Json::Null,
            Yaml::Bool(b) => Json::Bool(*b),
            Yaml::Number(n) => Json::String(n.to_string()),
            Yaml::String(s) => Json::String(s.clone()),
            Yaml::Sequence(items) => {
                let mut resolved = Vec::new();
                for (i, item) in items.iter().enumerate() {
                    resolved.extend(self.resolve(item, &format!("{at}[{i}]"))?);
                }
                Json::Array(resolved)
            }
            Yaml::Mapping(entries) => {
                let mut resolved = serde_json::Map::new();
                for (key, item) in entries {
                    let key = key
                        .as_str()
                        .ok_or_else(|| shape(at, "has a key that is not a string"))?;
                    if let Some(item) = self.resolve(item, &format!("{at}.{key}"))? {
                        resolved.insert(key.to_string(), item);
                    }
                }
                Json::Object(resolved)
            }
            Yaml::Tagged(tagged) => return self.intrinsic(&tagged.tag.to_string(), &tagged.value, at),
        }))
    }

    fn intrinsic(&self, tag: &str, value: &Yaml, at: &str) -> Result<Option<Json>, TemplateError> {
        let at = format!("{at} ({tag})");
        Ok(Some(Json::String(match tag.trim_start_matches('!') {
            "Ref" => {
                let name = value.as_str().ok_or_else(|| shape(&at, "names nothing"))?;
                if name == "AWS::NoValue" {
                    return Ok(None);
                }
                self.name(name)
            }
            "GetAtt" => {
                let name = match value {
                    Yaml::Sequence(parts) => parts.iter().filter_map(Yaml::as_str).collect::<Vec<_>>().join("."),
                    other => other.as_str().unwrap_or_default().to_string(),
                };
                self.name(&name)
            }
            "Sub" => {
                let (text, variables) = match value {
                    Yaml::Sequence(parts) if parts.len() == 2 => (parts[0].as_str(), Some(&parts[1])),
                    other => (other.as_str(), None),
                };
                let text = text.ok_or_else(|| shape(&at, "has no template string"))?;
                let mut local = BTreeMap::new();
                for (key, item) in variables.and_then(Yaml::as_mapping).into_iter().flatten() {
                    let key = key.as_str().unwrap_or_default().to_string();
                    if let Some(Json::String(item)) = self.resolve(item, &at)? {
                        local.insert(key, item);
                    }
                }
                self.substitute(text, &local)
            }
            "If" => {
                let Some([condition, then, otherwise]) = value.as_sequence().map(Vec::as_slice) else {
                    return Err(shape(&at, "is not [condition, then, else]"));
                };
                let condition = condition.as_str().ok_or_else(|| shape(&at, "names no condition"))?;
                let chosen = if self.condition(condition, &at)? {
                    then
                } else {
                    otherwise
                };
                return self.resolve(chosen, &at);
            }
            other => return Err(shape(at, format!("!{other} is not resolved by the local stack"))),
        })))
    }

    /// A pseudo parameter, a parameter's default, or what the stack made of a resource.
    fn name(&self, name: &str) -> String {
        if let Some(value) = self.names.get(name) {
            return value.clone();
        }
        match &self.template.root["Parameters"][name]["Default"] {
            Yaml::String(s) => s.clone(),
            Yaml::Number(n) => n.to_string(),
            _ => format!("unresolved:{name}"),
        }
    }

    fn substitute(&self, text: &str, local: &BTreeMap<String, String>) -> String {
        let mut out = String::new();
        let mut rest = text;
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            let Some(end) = after.find('}') else {
                out.push_str(&rest[start..]);
                return out;
            };
            let name = &after[..end];
            match name.strip_prefix('!') {
                // `${!Literal}` is the text `${Literal}`.
                Some(literal) => out.push_str(&format!("${{{literal}}}")),
                None => out.push_str(&local.get(name).cloned().unwrap_or_else(|| self.name(name))),
            }
            rest = &after[end + 1..];
        }
        out.push_str(rest);
        out
    }

    fn condition(&self, name: &str, at: &str) -> Result<bool, TemplateError> {
        let definition = &self.template.root["Conditions"][name];
        if definition.is_null() {
            return Err(shape(at, format!("condition {name} is not in Conditions")));
        }
        self.truth(definition, &format!("Conditions.{name}"))
    }

    fn truth(&self, value: &Yaml, at: &str) -> Result<bool, TemplateError> {
        let Yaml::Tagged(tagged) = value else {
            return Err(shape(at, "is not a condition function"));
        };
        let args = tagged.value.as_sequence().map(Vec::as_slice).unwrap_or_default();
        match tagged.tag.to_string().trim_start_matches('!') {
            "Equals" => {
                let [a, b] = args else {
                    return Err(shape(at, "!Equals takes two values"));
                };
                Ok(self.resolve(a, at)? == self.resolve(b, at)?)
            }
            "Not" => Ok(!self.truth(args.first().ok_or_else(|| shape(at, "!Not takes one condition"))?, at)?),
            "And" => args.iter().try_fold(true, |all, c| Ok(all && self.truth(c, at)?)),
            "Or" => args.iter().try_fold(false, |any, c| Ok(any || self.truth(c, at)?)),
            "Condition" => self.condition(tagged.value.as_str().unwrap_or_default(), at),
            other => Err(shape(at, format!("!{other} is not a condition function"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const TEMPLATE: &str = r#"
Parameters:
  Scope: { Type: String, Default: every-run }
  Existing: { Type: String, Default: "" }
Conditions:
  EveryRun: !Equals [!Ref Scope, every-run]
  CreateRole: !Equals [!Ref Existing, ""]
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Metadata: { BuildProperties: { Binary: efs-workflow-lambda } }
    Properties:
      Role: !GetAtt AccessRole.Arn
      Environment: { Variables: { EFS_WORKFLOW_FUNCTION: cleanup } }
  AccessRole:
    Type: AWS::IAM::Role
    Properties:
      ManagedPolicyArns: [!Ref Boundary]
      Policies:
        - PolicyName: inline
          PolicyDocument:
            Statement:
              - !If
                - EveryRun
                - Sid: Create
                  Effect: Allow
                  Action: eks:CreateAccessEntry
                  Resource: !Sub arn:${AWS::Partition}:eks:${AWS::Region}:${AWS::AccountId}:cluster/*
                - !Ref AWS::NoValue
              - Sid: Pass
                Effect: Allow
                Action: iam:PassRole
                Resource: !If [CreateRole, !GetAtt PodRole.Arn, !Ref Existing]
              - Sid: Logs
                Effect: Allow
                Action: logs:PutLogEvents
                Resource: !Sub ["${Group}:*", { Group: !GetAtt Logs.Arn }]
  Boundary:
    Type: AWS::IAM::ManagedPolicy
    Properties:
      PolicyDocument: { Statement: [{ Sid: Managed, Effect: Allow, Action: "x:Y", Resource: "*" }] }
  Attached:
    Type: AWS::IAM::Policy
    Properties:
      Roles: [!Ref AccessRole]
      PolicyDocument: { Statement: [{ Sid: Own, Effect: Allow, Action: eks:DeleteAccessEntry, Resource: !Sub "${AccessRole}" }] }
"#;

    fn names() -> Names {
        [
            ("AWS::Partition", "aws"),
            ("AWS::Region", "us-east-1"),
            ("AWS::AccountId", "1"),
            ("AccessRole", "access"),
            ("PodRole.Arn", "arn:aws:iam::1:role/pod"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
    }

    #[test]
    fn a_roles_policies_are_gathered_and_their_intrinsics_resolved() {
        let template = Template::parse(TEMPLATE).unwrap();
        let roles = template.function_roles().unwrap();
        assert_eq!(roles.len(), 1);
        assert_eq!(roles["AccessRole"], ["cleanup"]);
        let documents = template.role_documents("AccessRole", &names()).unwrap();
        let statements: Vec<&Json> = documents
            .iter()
            .flat_map(|d| d["Statement"].as_array().unwrap())
            .collect();
        let by_sid = |sid: &str| statements.iter().find(|s| s["Sid"] == sid).copied().unwrap().clone();
        assert_eq!(by_sid("Create")["Resource"], json!("arn:aws:eks:us-east-1:1:cluster/*"));
        assert_eq!(by_sid("Pass")["Resource"], json!("arn:aws:iam::1:role/pod"));
        assert_eq!(by_sid("Logs")["Resource"], json!("unresolved:Logs.Arn:*"));
        assert_eq!(by_sid("Own")["Resource"], json!("access"));
        assert_eq!(by_sid("Managed")["Action"], json!("x:Y"));
    }

    #[test]
    fn a_false_condition_leaves_the_statement_out() {
        let template = Template::parse(&TEMPLATE.replace("Default: every-run", "Default: first-run")).unwrap();
        let documents = template.role_documents("AccessRole", &names()).unwrap();
        let sids: Vec<&Json> = documents[0]["Statement"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| &s["Sid"])
            .collect();
        assert_eq!(sids, [&json!("Pass"), &json!("Logs")]);
    }

    #[test]
    fn a_role_named_any_other_way_is_refused_with_its_path() {
        let template = Template::parse(&TEMPLATE.replace("!GetAtt AccessRole.Arn", "arn:aws:iam::1:role/x")).unwrap();
        let error = template.function_roles().unwrap_err().to_string();
        assert!(error.contains("Resources.Fn.Properties.Role"), "{error}");
    }
}
