//! What one cleanup may delete. Manual and TTL cleanups remove everything the workflow created for
//! the cluster+namespace; the rollback of a failed run removes only what that run created, so a
//! failed re-run can never destroy what an earlier run provisioned.

use super::{Owner, RUN_ID_KEY, label_value};
use std::collections::BTreeMap;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Scope {
    /// Everything of ours for the cluster+namespace.
    Namespace,
    /// Only what the run with this id (its provisioning execution's name) created.
    Run(String),
}

impl Scope {
    pub fn of(run_id: Option<&str>) -> Self {
        run_id.map_or(Self::Namespace, |id| Self::Run(id.to_string()))
    }

    /// Why a resource of ours with these tags stays, or `None` when this cleanup may delete it.
    pub fn keeps<'a>(&self, tags: impl IntoIterator<Item = (&'a str, &'a str)>) -> Option<String> {
        let Self::Run(run_id) = self else { return None };
        let creator = tags.into_iter().find(|(k, _)| *k == RUN_ID_KEY).map(|(_, v)| v);
        (creator != Some(run_id.as_str())).then(|| not_this_run(creator, run_id))
    }

    /// Why a resource under the namespace's names stays: the workflow did not create it for this
    /// namespace, or (in a rollback) another run did; `None` when this cleanup may delete it.
    pub fn why_kept<'a, I>(&self, owner: &Owner, tags: I) -> Option<String>
    where
        I: IntoIterator<Item = (&'a str, &'a str)> + Clone,
    {
        if owner.owns(tags.clone()) {
            self.keeps(tags)
        } else {
            Some("not created by the workflow".to_string())
        }
    }

    /// [`Self::keeps`] for a Kubernetes object's labels (whose values are [`label_value`]s).
    pub fn keeps_labels(&self, labels: Option<&BTreeMap<String, String>>) -> Option<String> {
        let Self::Run(run_id) = self else { return None };
        let creator = labels.and_then(|l| l.get(RUN_ID_KEY)).map(String::as_str);
        (creator != Some(label_value(run_id).as_str())).then(|| not_this_run(creator, run_id))
    }

    /// The label selector of the objects this cleanup may delete in the namespace.
    pub fn label_selector(&self, owner: &Owner) -> String {
        match self {
            Self::Namespace => owner.label_selector(),
            Self::Run(run_id) => format!("{},{RUN_ID_KEY}={}", owner.label_selector(), label_value(run_id)),
        }
    }

    pub fn run_id(&self) -> Option<&str> {
        match self {
            Self::Namespace => None,
            Self::Run(run_id) => Some(run_id),
        }
    }
}

fn not_this_run(creator: Option<&str>, run_id: &str) -> String {
    format!(
        "created by run {}, not by the failed run {run_id} this rollback undoes",
        creator.unwrap_or("(unknown)")
    )
}

/// How a kept resource is reported: `what (why)`.
pub fn kept(what: impl std::fmt::Display, why: impl std::fmt::Display) -> String {
    format!("{what} ({why})")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rollback_keeps_what_other_runs_created() {
        let owner = Owner::new("demo", "ns");
        let first = owner.tags("x", "run-1", None);
        let tags = || first.iter().map(|(k, v)| (k.as_str(), v.as_str()));
        assert_eq!(Scope::Namespace.keeps(tags()), None);
        assert_eq!(Scope::of(Some("run-1")).keeps(tags()), None);
        let why = Scope::of(Some("run-2")).keeps(tags()).unwrap();
        assert!(why.contains("created by run run-1") && why.contains("run-2"), "{why}");
        assert!(Scope::of(Some("run-2")).keeps([]).unwrap().contains("(unknown)"));
    }

    #[test]
    fn labels_and_selectors_follow_the_run() {
        let owner = Owner::new("demo", "ns");
        let long_run = "r".repeat(80);
        let labels = owner.labels(&long_run, None);
        assert_eq!(Scope::of(Some(&long_run)).keeps_labels(Some(&labels)), None);
        assert!(Scope::of(Some("other")).keeps_labels(Some(&labels)).is_some());
        assert!(Scope::of(Some("other")).keeps_labels(None).is_some());
        assert_eq!(Scope::Namespace.label_selector(&owner), owner.label_selector());
        assert!(
            Scope::of(Some(&long_run))
                .label_selector(&owner)
                .ends_with(&format!("{RUN_ID_KEY}={}", label_value(&long_run)))
        );
    }
}
