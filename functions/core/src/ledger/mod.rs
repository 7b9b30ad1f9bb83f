//! The ownership ledger: what the workflow created, recorded by the workflow alone, in a DynamoDB
//! table of its own deployment (`LEDGER_TABLE_NAME`, `LedgerTable` in template.yaml). It decides
//! every deletion: no delete path deletes anything the ledger does not record as created by the
//! workflow in that scope (and, in a rollback, by that run in that generation). Tags and labels
//! stay, for people and for discovery; anyone allowed to tag can write them, so they never decide.
//! A lost or empty ledger deletes nothing. Terraform's state and a CloudFormation stack work so.
//!
//! Layout (one partition per cluster, so one Query sees everything on a cluster):
//!
//! | pk | sk | what |
//! |---|---|---|
//! | `cluster#<cluster>` | `ns#<namespace>#@` | the namespace's [`Header`]: generation, the run in flight, expiry |
//! | `cluster#<cluster>` | `ns#<namespace>#r#<kind>#<key>` | a resource of the namespace ([`Record`]) |
//! | `cluster#<cluster>` | `shared#<kind>#<key>` | a resource the cluster's namespaces share |
//! | `account` | `r#<kind>#<key>` | a resource of the account and region (KMS keys behind an alias) |
//!
//! Creating follows intent → create → confirm ([`Ledger::intend`], [`Ledger::confirm`]): a crash
//! between the create call and the confirmation leaves an intent, which the next run (or cleanup)
//! resolves by looking the resource up by its deterministic handle, so nothing is made twice or
//! leaked. Every write is conditional.

mod header;
mod item;
mod kind;
mod place;
mod record;

pub use header::Header;
pub use kind::Kind;
pub use place::Place;
pub use record::{Creator, Record, RecordState};

use crate::error::{Result, WorkflowError};
use crate::settings::Settings;

/// The ledger of one deployment, on one table.
#[derive(Clone, Debug)]
pub struct Ledger {
    dynamodb: aws_sdk_dynamodb::Client,
    table: String,
    /// The deployment (stack and region) every item names, for people reading the table.
    deployment: String,
}

impl Ledger {
    /// The deployment's ledger. Without a table nothing may be created or deleted: the workflow
    /// refuses rather than act without a record.
    pub fn of(dynamodb: &aws_sdk_dynamodb::Client, settings: &Settings) -> Result<Self> {
        let table = settings.ledger_table_name.clone().ok_or_else(|| {
            WorkflowError::invalid(
                "LEDGER_TABLE_NAME",
                "must name the deployment's ledger table (template.yaml sets it): the workflow records what it creates there and deletes nothing it has not recorded",
            )
        })?;
        Ok(Self {
            dynamodb: dynamodb.clone(),
            table,
            deployment: settings.deployment.clone(),
        })
    }

    pub fn deployment(&self) -> &str {
        &self.deployment
    }
}

/// What the ledger holds for one namespace: its header and its resources.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NamespaceView {
    pub header: Option<Header>,
    pub records: Vec<Record>,
}

impl NamespaceView {
    /// The records of `kind`, confirmed or not.
    pub fn of_kind(&self, kind: Kind) -> impl Iterator<Item = &Record> {
        self.records.iter().filter(move |r| r.kind == kind)
    }

    /// The record of `kind` under `key`.
    pub fn find(&self, kind: Kind, key: &str) -> Option<&Record> {
        self.records.iter().find(|r| r.kind == kind && r.key == key)
    }
}

/// What the ledger holds for one cluster: every namespace's header and resources, and what the
/// namespaces share.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClusterView {
    pub headers: Vec<Header>,
    /// Resources of the cluster's namespaces.
    pub records: Vec<Record>,
    /// Resources the namespaces share (access entry, RBAC, storage objects, bootstrap grants).
    pub shared: Vec<Record>,
}

impl ClusterView {
    /// One namespace's part.
    pub fn namespace(&self, namespace: &str) -> NamespaceView {
        NamespaceView {
            header: self.headers.iter().find(|h| h.namespace == namespace).cloned(),
            records: self
                .records
                .iter()
                .filter(|r| r.namespace.as_deref() == Some(namespace))
                .cloned()
                .collect(),
        }
    }

    /// The shared record of `kind` under `key`.
    pub fn shared(&self, kind: Kind, key: &str) -> Option<&Record> {
        self.shared.iter().find(|r| r.kind == kind && r.key == key)
    }
}
