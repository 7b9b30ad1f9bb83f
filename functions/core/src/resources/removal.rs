//! What a removal may delete and what it did: the cleanup's scope (everything the ledger records
//! for the namespace, or one run's part of one generation), and each call's account.

use jiff::{SignedDuration, Timestamp};

use crate::ledger::{Header, Record, RecordState};

/// What one cleanup may delete. Manual cleanups remove everything the ledger records for the
/// cluster+namespace; a rollback only what its run created, and nothing once a later run has held
/// the namespace (its generation moved); a TTL cleanup likewise nothing once a later run has.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CleanupScope {
    pub run: Option<String>,
    pub generation: Option<u64>,
}

impl CleanupScope {
    /// Why this cleanup deletes nothing at all: a later run began since it was started.
    pub fn superseded(&self, header: Option<&Header>) -> Option<String> {
        let wanted = self.generation?;
        let header = header?;
        (header.generation != wanted).then(|| {
            format!(
                "superseded by run {} (generation {}): this cleanup was started for generation {wanted}, and a later run has held the namespace since",
                header.run, header.generation
            )
        })
    }

    /// Why a record of ours stays: in a rollback, another run created it.
    pub fn keeps(&self, record: &Record) -> Option<String> {
        let run = self.run.as_deref()?;
        (record.run != run).then(|| {
            format!(
                "created by run {}, not by the failed run {run} this rollback undoes",
                record.run
            )
        })
    }
}

/// Why a resource that carries the workflow's tags or labels stays: the ledger does not record it.
pub const NOT_RECORDED: &str =
    "not recorded as created by this deployment (its ledger has no record of it; tags and labels decide nothing)";

/// How much earlier than its intent a resource may say it was created (clocks differ a little).
const CLOCK_SKEW: SignedDuration = SignedDuration::from_secs(120);

/// Whether `record` is the ledger's record of the resource `id`: confirmed under that id, or an
/// intent recorded before the resource was made (a crash between the create call and the
/// confirmation). `created_at` is the service's creation time, where it reports one: a resource
/// older than the intent was not made for it.
pub fn records(record: &Record, id: &str, created_at: Option<Timestamp>) -> bool {
    match record.state {
        RecordState::Created => record.resource_id.as_deref() == Some(id),
        RecordState::Intent => match (created_at, record.recorded_at.parse::<Timestamp>()) {
            (Some(created), Ok(intended)) => created >= intended.checked_sub(CLOCK_SKEW).unwrap_or(intended),
            _ => true,
        },
    }
}

/// What one call of a removal did: `done` once nothing of ours in scope is left.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Removal {
    pub done: bool,
    pub removed: Vec<String>,
    pub kept: Vec<String>,
}

impl Removal {
    pub fn done() -> Self {
        Self {
            done: true,
            ..Self::default()
        }
    }

    pub fn pending() -> Self {
        Self::default()
    }

    pub fn kept(mut self, what: impl std::fmt::Display, why: impl std::fmt::Display) -> Self {
        self.kept.push(kept(what, why));
        self
    }

    pub fn removed(mut self, what: impl Into<String>) -> Self {
        self.removed.push(what.into());
        self
    }

    /// Both calls' account; done when both are.
    pub fn and(mut self, other: Removal) -> Self {
        self.done &= other.done;
        self.removed.extend(other.removed);
        self.kept.extend(other.kept);
        self
    }
}

/// How a kept resource is reported: `what (why)`.
pub fn kept(what: impl std::fmt::Display, why: impl std::fmt::Display) -> String {
    format!("{what} ({why})")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::Kind;
    use std::collections::{BTreeMap, BTreeSet};

    fn record(run: &str, state: RecordState, id: Option<&str>, recorded_at: &str) -> Record {
        Record {
            kind: Kind::FileSystem,
            key: "token".into(),
            cluster: Some("demo".into()),
            namespace: Some("ns".into()),
            resource_id: id.map(str::to_string),
            run: run.into(),
            generation: 1,
            state,
            recorded_at: recorded_at.into(),
            attributes: BTreeMap::new(),
            users: BTreeSet::new(),
        }
    }

    fn header(run: &str, generation: u64) -> Header {
        Header {
            cluster: "demo".into(),
            namespace: "ns".into(),
            generation,
            run: run.into(),
            execution_arn: None,
            in_flight: false,
            expires_at: None,
        }
    }

    #[test]
    fn a_later_generation_supersedes_a_scoped_cleanup_only() {
        let rollback = CleanupScope {
            run: Some("p".into()),
            generation: Some(1),
        };
        assert_eq!(rollback.superseded(Some(&header("p", 1))), None);
        let why = rollback.superseded(Some(&header("q", 2))).unwrap();
        assert!(why.contains("run q") && why.contains("generation 2"), "{why}");
        assert_eq!(CleanupScope::default().superseded(Some(&header("q", 2))), None);
        assert_eq!(rollback.superseded(None), None);
    }

    #[test]
    fn a_rollback_keeps_what_other_runs_created() {
        let rollback = CleanupScope {
            run: Some("p".into()),
            generation: Some(2),
        };
        let earlier = record("e", RecordState::Created, Some("fs-1"), "2026-01-01T00:00:00Z");
        assert!(rollback.keeps(&earlier).unwrap().contains("created by run e"));
        let own = record("p", RecordState::Created, Some("fs-1"), "2026-01-01T00:00:00Z");
        assert_eq!(rollback.keeps(&own), None);
        assert_eq!(CleanupScope::default().keeps(&earlier), None);
    }

    #[test]
    fn only_the_recorded_resource_or_one_made_after_the_intent_is_recorded() {
        let created = record("p", RecordState::Created, Some("fs-1"), "2026-01-01T00:00:00Z");
        assert!(records(&created, "fs-1", None));
        assert!(!records(&created, "fs-2", None));
        let intent = record("p", RecordState::Intent, None, "2026-01-01T12:00:00Z");
        assert!(records(&intent, "fs-2", Some("2026-01-01T12:00:30Z".parse().unwrap())));
        assert!(records(&intent, "fs-2", Some("2026-01-01T11:59:00Z".parse().unwrap())));
        assert!(!records(&intent, "fs-2", Some("2025-12-31T00:00:00Z".parse().unwrap())));
        assert!(records(&intent, "sg-1", None));
    }
}
