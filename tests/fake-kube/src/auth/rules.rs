//! RBAC policy rules and the request attributes they are matched against, with the semantics of
//! `k8s.io/kubernetes/pkg/registry/rbac/validation` (`RuleAllows`, `Covers`, `BreakdownRule`).

use std::fmt::Write;

use serde_json::{Value, json};

/// Matches every verb, group, resource or non-resource URL.
const ALL: &str = "*";

/// What a resource request asks for, as the authorizer sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attributes {
    /// `get`, `list`, `watch`, `create`, `update`, `patch`, `delete`, `deletecollection`, or a
    /// special verb (`bind`, `escalate`).
    pub verb: &'static str,
    pub group: &'static str,
    /// The plural resource: `pods`.
    pub resource: &'static str,
    /// `""`, `log`, `exec` or `status`.
    pub subresource: &'static str,
    /// Empty for cluster-scoped requests; a namespace's own name for requests on that namespace.
    pub namespace: String,
    /// Empty for collections and creates.
    pub name: String,
}

impl Attributes {
    /// `pods` or `pods/log`, as rules and messages name it.
    pub fn full_resource(&self) -> String {
        match self.subresource {
            "" => self.resource.to_string(),
            sub => format!("{}/{sub}", self.resource),
        }
    }
}

/// One `rules[]` entry of a Role or ClusterRole (or of an EKS access policy).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Rule {
    pub api_groups: Vec<String>,
    pub resources: Vec<String>,
    pub verbs: Vec<String>,
    pub resource_names: Vec<String>,
    pub non_resource_urls: Vec<String>,
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

fn has(set: &[String], item: &str) -> bool {
    set.iter().any(|s| s == item)
}

impl Rule {
    pub fn new(api_groups: &[&str], resources: &[&str], verbs: &[&str]) -> Self {
        Self {
            api_groups: strings(api_groups),
            resources: strings(resources),
            verbs: strings(verbs),
            ..Self::default()
        }
    }

    pub fn non_resource(urls: &[&str], verbs: &[&str]) -> Self {
        Self {
            non_resource_urls: strings(urls),
            verbs: strings(verbs),
            ..Self::default()
        }
    }

    /// A stored rule (missing lists are empty).
    pub fn from_json(rule: &Value) -> Self {
        let list = |field: &str| -> Vec<String> {
            rule[field]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        };
        Self {
            api_groups: list("apiGroups"),
            resources: list("resources"),
            verbs: list("verbs"),
            resource_names: list("resourceNames"),
            non_resource_urls: list("nonResourceURLs"),
        }
    }

    pub fn to_json(&self) -> Value {
        let mut rule = json!({"verbs": self.verbs});
        for (field, values) in [
            ("apiGroups", &self.api_groups),
            ("resources", &self.resources),
            ("resourceNames", &self.resource_names),
            ("nonResourceURLs", &self.non_resource_urls),
        ] {
            if !values.is_empty() {
                rule[field] = json!(values);
            }
        }
        rule
    }

    /// `RuleAllows`: verb, group, resource (with `*/sub` for subresources) and name all match.
    pub fn allows(&self, request: &Attributes) -> bool {
        let resource = request.full_resource();
        let resource_matches = self.resources.iter().any(|r| {
            r == ALL
                || *r == resource
                || (!request.subresource.is_empty() && r.strip_prefix("*/") == Some(request.subresource))
        });
        (has(&self.verbs, ALL) || has(&self.verbs, request.verb))
            && (has(&self.api_groups, ALL) || has(&self.api_groups, request.group))
            && resource_matches
            && (self.resource_names.is_empty() || has(&self.resource_names, &request.name))
    }

    /// `BreakdownRule`: one rule per group × resource × verb (× name), and per URL × verb.
    pub fn atoms(&self) -> Vec<Rule> {
        let mut atoms = Vec::new();
        for group in &self.api_groups {
            for resource in &self.resources {
                for verb in &self.verbs {
                    let atom = Rule::new(&[group], &[resource], &[verb]);
                    if self.resource_names.is_empty() {
                        atoms.push(atom);
                        continue;
                    }
                    for name in &self.resource_names {
                        atoms.push(Rule {
                            resource_names: vec![name.clone()],
                            ..atom.clone()
                        });
                    }
                }
            }
        }
        for url in &self.non_resource_urls {
            for verb in &self.verbs {
                atoms.push(Rule::non_resource(&[url], &[verb]));
            }
        }
        atoms
    }

    /// `ruleCovers`: everything `sub` grants, this rule grants too. A `*` in `sub` is covered
    /// only by a `*` here, so nobody grants "everything" without holding it.
    pub fn covers(&self, sub: &Rule) -> bool {
        let has_all = |set: &[String], items: &[String]| has(set, ALL) || items.iter().all(|i| has(set, i));
        let resources = has(&self.resources, ALL)
            || sub.resources.iter().all(|r| {
                has(&self.resources, r)
                    || r.split_once('/')
                        .is_some_and(|(_, sub)| has(&self.resources, &format!("*/{sub}")))
            });
        let urls = sub.non_resource_urls.iter().all(|url| {
            self.non_resource_urls
                .iter()
                .any(|own| own == url || own.strip_suffix('*').is_some_and(|prefix| url.starts_with(prefix)))
        });
        let names = self.resource_names.is_empty()
            || (!sub.resource_names.is_empty() && sub.resource_names.iter().all(|n| has(&self.resource_names, n)));
        has_all(&self.verbs, &sub.verbs) && has_all(&self.api_groups, &sub.api_groups) && resources && urls && names
    }

    /// `CompactString`: `{APIGroups:[""], Resources:["secrets"], Verbs:["get"]}`.
    pub fn compact_string(&self) -> String {
        let mut parts = Vec::new();
        for (label, values) in [
            ("APIGroups", &self.api_groups),
            ("Resources", &self.resources),
            ("NonResourceURLs", &self.non_resource_urls),
            ("ResourceNames", &self.resource_names),
            ("Verbs", &self.verbs),
        ] {
            if !values.is_empty() {
                let mut quoted = String::new();
                for (i, value) in values.iter().enumerate() {
                    let separator = if i == 0 { "" } else { " " };
                    let _ = write!(quoted, "{separator}{value:?}");
                }
                parts.push(format!("{label}:[{quoted}]"));
            }
        }
        format!("{{{}}}", parts.join(", "))
    }
}

/// The atoms of `requested` that no rule of `owned` covers (`Covers`).
pub fn uncovered(owned: &[Rule], requested: &[Rule]) -> Vec<Rule> {
    requested
        .iter()
        .flat_map(Rule::atoms)
        .filter(|atom| !owned.iter().any(|own| own.covers(atom)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(verb: &'static str, resource: &'static str, subresource: &'static str, name: &str) -> Attributes {
        Attributes {
            verb,
            group: "",
            resource,
            subresource,
            namespace: "ns".into(),
            name: name.into(),
        }
    }

    #[test]
    fn rules_match_verbs_resources_subresources_and_names() {
        let logs = Rule::new(&[""], &["pods/log"], &["get"]);
        assert!(logs.allows(&request("get", "pods", "log", "web")));
        assert!(!logs.allows(&request("get", "pods", "", "web")));
        assert!(!logs.allows(&request("get", "pods", "exec", "web")));
        let any_status = Rule::new(&[""], &["*/status"], &["*"]);
        assert!(any_status.allows(&request("get", "pods", "status", "web")));
        assert!(!any_status.allows(&request("get", "pods", "", "web")));
        let named = Rule {
            resource_names: vec!["settings".into()],
            ..Rule::new(&[""], &["configmaps"], &["get", "patch"])
        };
        assert!(named.allows(&request("get", "configmaps", "", "settings")));
        assert!(!named.allows(&request("get", "configmaps", "", "other")));
        assert!(!named.allows(&request("list", "configmaps", "", "")));
        let everything = Rule::new(&["*"], &["*"], &["*"]);
        assert!(everything.allows(&request("deletecollection", "secrets", "", "")));
        let other_group = Rule::new(&["storage.k8s.io"], &["*"], &["*"]);
        assert!(!other_group.allows(&request("get", "pods", "", "web")));
    }

    #[test]
    fn coverage_needs_every_atom_and_wildcards_only_cover_wildcards() {
        let owned = [Rule::new(&[""], &["pods", "pods/log"], &["get", "list"])];
        assert!(uncovered(&owned, &[Rule::new(&[""], &["pods"], &["get"])]).is_empty());
        let missing = uncovered(&owned, &[Rule::new(&[""], &["pods", "secrets"], &["get", "delete"])]);
        let missing: Vec<String> = missing.iter().map(Rule::compact_string).collect();
        assert_eq!(
            missing,
            [
                r#"{APIGroups:[""], Resources:["pods"], Verbs:["delete"]}"#,
                r#"{APIGroups:[""], Resources:["secrets"], Verbs:["get"]}"#,
                r#"{APIGroups:[""], Resources:["secrets"], Verbs:["delete"]}"#,
            ]
        );
        assert_eq!(uncovered(&owned, &[Rule::new(&[""], &["*"], &["get"])]).len(), 1);
        let named = Rule {
            resource_names: vec!["a".into()],
            ..Rule::new(&[""], &["pods"], &["get"])
        };
        assert!(uncovered(&owned, std::slice::from_ref(&named)).is_empty());
        assert_eq!(uncovered(&[named], &owned).len(), 4);
        let all = [Rule::new(&["*"], &["*"], &["*"]), Rule::non_resource(&["*"], &["*"])];
        assert!(uncovered(&all, &[Rule::non_resource(&["/healthz"], &["get"])]).is_empty());
    }
}
