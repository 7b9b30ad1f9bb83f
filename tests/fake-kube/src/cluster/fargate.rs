//! Which `ACTIVE` Fargate profile (asked from EKS) selects a pod, the way the EKS Fargate
//! admission webhook decides it when the pod is created.

use std::collections::{BTreeMap, HashMap};

use aws_sdk_eks::error::DisplayErrorContext;
use aws_sdk_eks::types::{FargateProfileSelector, FargateProfileStatus};

/// A Fargate profile as far as pod selection goes.
#[derive(Clone, Debug, PartialEq)]
pub struct Profile {
    pub name: String,
    pub active: bool,
    /// (namespace pattern, label patterns).
    pub selectors: Vec<(String, BTreeMap<String, String>)>,
}

/// Every Fargate profile of `cluster`, in name order.
pub async fn profiles(eks: &aws_sdk_eks::Client, cluster: &str) -> Result<Vec<Profile>, String> {
    let mut names: Vec<String> = Vec::new();
    let mut pages = eks
        .list_fargate_profiles()
        .cluster_name(cluster)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        names.extend(
            page.map_err(|e| DisplayErrorContext(e).to_string())?
                .fargate_profile_names
                .unwrap_or_default(),
        );
    }
    names.sort();
    let mut profiles = Vec::new();
    for name in names {
        let output = eks
            .describe_fargate_profile()
            .cluster_name(cluster)
            .fargate_profile_name(&name)
            .send()
            .await
            .map_err(|e| DisplayErrorContext(e).to_string())?;
        let Some(profile) = output.fargate_profile else {
            continue;
        };
        profiles.push(Profile {
            name,
            active: profile.status == Some(FargateProfileStatus::Active),
            selectors: profile.selectors.unwrap_or_default().iter().map(selector).collect(),
        });
    }
    Ok(profiles)
}

fn selector(selector: &FargateProfileSelector) -> (String, BTreeMap<String, String>) {
    let labels: &HashMap<String, String> = match &selector.labels {
        Some(labels) => labels,
        None => &HashMap::new(),
    };
    (
        selector.namespace.clone().unwrap_or_default(),
        labels.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
    )
}

/// The first active profile with a selector whose namespace matches and whose labels all match.
pub fn select<'a>(profiles: &'a [Profile], namespace: &str, labels: &BTreeMap<String, String>) -> Option<&'a Profile> {
    profiles.iter().filter(|p| p.active).find(|profile| {
        profile.selectors.iter().any(|(namespace_pattern, label_patterns)| {
            wildcard_match(namespace_pattern, namespace)
                && label_patterns.iter().all(|(key_pattern, value_pattern)| {
                    labels
                        .iter()
                        .any(|(key, value)| wildcard_match(key_pattern, key) && wildcard_match(value_pattern, value))
                })
        })
    })
}

/// `*` matches any run of characters, `?` exactly one.
pub fn wildcard_match(pattern: &str, text: &str) -> bool {
    let (pattern, text): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    let (mut p, mut t) = (0, 0);
    let mut backtrack: Option<(usize, usize)> = None;
    while t < text.len() {
        match pattern.get(p) {
            Some('*') => {
                backtrack = Some((p, t));
                p += 1;
            }
            Some(&c) if c == '?' || c == text[t] => {
                p += 1;
                t += 1;
            }
            _ => match backtrack {
                Some((star, matched)) => {
                    p = star + 1;
                    t = matched + 1;
                    backtrack = Some((star, matched + 1));
                }
                None => return false,
            },
        }
    }
    pattern[p..].iter().all(|&c| c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    fn profile(name: &str, active: bool, namespace: &str, selector_labels: &[(&str, &str)]) -> Profile {
        Profile {
            name: name.into(),
            active,
            selectors: vec![(namespace.into(), labels(selector_labels))],
        }
    }

    #[test]
    fn wildcards() {
        assert!(wildcard_match("poc-*", "poc-app"));
        assert!(wildcard_match("poc-?", "poc-1"));
        assert!(!wildcard_match("poc-?", "poc-12"));
        assert!(wildcard_match("*", ""));
        assert!(wildcard_match("a*b*c", "axxbyyc"));
        assert!(!wildcard_match("a*b", "axxc"));
        assert!(wildcard_match("default", "default"));
    }

    #[test]
    fn selects_by_namespace_and_all_labels_of_active_profiles() {
        let profiles = [
            profile("creating", false, "*", &[]),
            profile("fp-poc", true, "poc-*", &[("app", "web"), ("tier", "f*")]),
        ];
        let pod_labels = labels(&[("app", "web"), ("tier", "front"), ("x", "y")]);
        assert_eq!(
            select(&profiles, "poc-1", &pod_labels).map(|p| p.name.as_str()),
            Some("fp-poc")
        );
        assert!(select(&profiles, "poc-1", &labels(&[("app", "web")])).is_none());
        assert!(select(&profiles, "other", &pod_labels).is_none());
    }
}
