//! One resource the workflow created (or is about to create): its kind, key, physical id, and the
//! run (and generation) that created it.

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_dynamodb::types::ReturnValue;
use aws_sdk_dynamodb::types::ReturnValuesOnConditionCheckFailure::AllOld;
use jiff::Timestamp;

use super::Kind;
use super::item::{Item, condition_failed, get_s, malformed, n, req_n, req_s, s};
use super::{Ledger, Place};
use crate::error::{Result, WorkflowError};

/// The run that creates: its id (the provisioning execution's name) and the namespace's generation
/// it holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Creator {
    pub run_id: String,
    pub generation: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RecordState {
    /// Recorded before the create call; the resource may or may not exist.
    Intent,
    /// The create call succeeded and `resource_id` names what it made.
    Created,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    pub kind: Kind,
    /// What the workflow knows the resource by before it exists (a name, a creation token, a zone).
    pub key: String,
    pub cluster: Option<String>,
    pub namespace: Option<String>,
    /// The id or ARN (Kubernetes objects: the uid) once created.
    pub resource_id: Option<String>,
    pub run: String,
    pub generation: u64,
    pub state: RecordState,
    pub recorded_at: String,
    /// Facts about the resource that decide its removal (`retain`, `replicatedTo`, `name`, ...).
    pub attributes: BTreeMap<String, String>,
    /// For a resource several namespaces use (a KMS key behind an alias): `cluster/namespace` each.
    pub users: BTreeSet<String>,
}

impl Record {
    pub fn place(&self) -> Place<'_> {
        match (&self.cluster, &self.namespace) {
            (Some(cluster), Some(namespace)) => Place::Namespace { cluster, namespace },
            (Some(cluster), None) => Place::Cluster(cluster),
            _ => Place::Account,
        }
    }

    pub fn is_created(&self) -> bool {
        self.state == RecordState::Created
    }

    pub fn attribute(&self, name: &str) -> Option<&str> {
        self.attributes.get(name).map(String::as_str)
    }

    /// `kind key (id)` as reports name it.
    pub fn describe(&self) -> String {
        match &self.resource_id {
            Some(id) if *id != self.key => format!("{} {} ({id})", self.kind.as_str(), self.key),
            _ => format!("{} {}", self.kind.as_str(), self.key),
        }
    }

    /// The item as the ledger stores it (its deployment aside).
    pub fn to_item(&self) -> Item {
        let place = self.place();
        let mut item = Item::from([
            ("pk".into(), s(place.pk())),
            ("sk".into(), s(place.sk(self.kind, &self.key))),
            ("itemType".into(), s("resource")),
            ("kind".into(), s(self.kind.as_str())),
            ("key".into(), s(&self.key)),
            ("run".into(), s(&self.run)),
            ("generation".into(), n(self.generation)),
            (
                "state".into(),
                s(match self.state {
                    RecordState::Intent => "intent",
                    RecordState::Created => "created",
                }),
            ),
            ("recordedAt".into(), s(&self.recorded_at)),
            ("attributes".into(), attribute_map(&self.attributes)),
        ]);
        for (name, value) in [
            ("cluster", &self.cluster),
            ("namespace", &self.namespace),
            ("resourceId", &self.resource_id),
        ] {
            if let Some(value) = value {
                item.insert(name.into(), s(value));
            }
        }
        if !self.users.is_empty() {
            item.insert("users".into(), AttributeValue::Ss(self.users.iter().cloned().collect()));
        }
        item
    }

    pub(super) fn from_item(item: &Item) -> Result<Self> {
        let kind = req_s(item, "kind")?;
        let kind = Kind::from_name(&kind).ok_or_else(|| malformed(item, &format!("names an unknown kind `{kind}`")))?;
        let state = match req_s(item, "state")?.as_str() {
            "intent" => RecordState::Intent,
            "created" => RecordState::Created,
            other => return Err(malformed(item, &format!("has an unknown state `{other}`"))),
        };
        let attributes = item
            .get("attributes")
            .and_then(|v| v.as_m().ok())
            .map(|m| {
                m.iter()
                    .filter_map(|(k, v)| Some((k.clone(), v.as_s().ok()?.clone())))
                    .collect()
            })
            .unwrap_or_default();
        let users = item
            .get("users")
            .and_then(|v| v.as_ss().ok())
            .map(|users| users.iter().cloned().collect())
            .unwrap_or_default();
        Ok(Self {
            kind,
            key: req_s(item, "key")?,
            cluster: get_s(item, "cluster"),
            namespace: get_s(item, "namespace"),
            resource_id: get_s(item, "resourceId"),
            run: req_s(item, "run")?,
            generation: req_n(item, "generation")?,
            state,
            recorded_at: req_s(item, "recordedAt")?,
            attributes,
            users,
        })
    }
}

fn attribute_map(attributes: &BTreeMap<String, String>) -> AttributeValue {
    AttributeValue::M(attributes.iter().map(|(k, v)| (k.clone(), s(v))).collect())
}

impl Ledger {
    fn key_of(place: Place<'_>, kind: Kind, key: &str) -> Item {
        Item::from([("pk".into(), s(place.pk())), ("sk".into(), s(place.sk(kind, key)))])
    }

    /// The record of `kind` under `key`, if any.
    pub async fn get(&self, place: Place<'_>, kind: Kind, key: &str) -> Result<Option<Record>> {
        let got = self
            .dynamodb
            .get_item()
            .table_name(&self.table)
            .set_key(Some(Self::key_of(place, kind, key)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| WorkflowError::from_sdk("dynamodb:GetItem", e))?;
        got.item().map(Record::from_item).transpose()
    }

    /// Records that `creator` is about to create a resource of `kind` under `key`, before the
    /// create call. When a record exists already (an earlier attempt's intent, or the resource an
    /// earlier run created), nothing is written and that record is returned.
    pub async fn intend(&self, place: Place<'_>, kind: Kind, key: &str, creator: &Creator) -> Result<Record> {
        self.intend_for(place, kind, key, creator, None).await
    }

    /// [`Self::intend`] for a record several namespaces share, with its first user in the same
    /// write: no moment exists in which the intent has no user (and another namespace's cleanup
    /// could take it for an orphan).
    pub async fn intend_used_by(
        &self,
        place: Place<'_>,
        kind: Kind,
        key: &str,
        creator: &Creator,
        user: &str,
    ) -> Result<Record> {
        self.intend_for(place, kind, key, creator, Some(user)).await
    }

    async fn intend_for(
        &self,
        place: Place<'_>,
        kind: Kind,
        key: &str,
        creator: &Creator,
        user: Option<&str>,
    ) -> Result<Record> {
        let intent = Record {
            kind,
            key: key.to_string(),
            cluster: place.cluster().map(str::to_string),
            namespace: place.namespace().map(str::to_string),
            resource_id: None,
            run: creator.run_id.clone(),
            generation: creator.generation,
            state: RecordState::Intent,
            recorded_at: Timestamp::now().to_string(),
            attributes: BTreeMap::new(),
            users: user.map(str::to_string).into_iter().collect(),
        };
        let mut item = intent.to_item();
        item.insert("deployment".into(), s(&self.deployment));
        let put = self
            .dynamodb
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item.clone()))
            .condition_expression("attribute_not_exists(sk)")
            .return_values_on_condition_check_failure(AllOld)
            .send()
            .await;
        match put {
            Ok(_) => Ok(intent),
            Err(err) => {
                let existing = condition_failed("dynamodb:PutItem", err, |e| match e {
                    PutItemError::ConditionalCheckFailedException(f) => Some(f.item()),
                    _ => None,
                })?;
                existing
                    .as_ref()
                    .map(Record::from_item)
                    .transpose()?
                    .ok_or_else(|| WorkflowError::AwsApiError {
                        operation: "dynamodb:PutItem".into(),
                        code: "ConditionalCheckFailedException".into(),
                        message: "the ledger refused a new record but returned no existing one".into(),
                    })
            }
        }
    }

    /// Replaces `stale`, the record of a resource that no longer exists (deleted by hand, or with
    /// its cluster), with `creator`'s intent to create it again; unless the record changed since.
    /// The record that stands afterwards.
    pub async fn renew(&self, stale: &Record, creator: &Creator) -> Result<Record> {
        let place = stale.place();
        let intent = Record {
            resource_id: None,
            run: creator.run_id.clone(),
            generation: creator.generation,
            state: RecordState::Intent,
            recorded_at: Timestamp::now().to_string(),
            attributes: BTreeMap::new(),
            users: stale.users.clone(),
            ..stale.clone()
        };
        let mut item = intent.to_item();
        item.insert("deployment".into(), s(&self.deployment));
        let put = self
            .dynamodb
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("#run = :run AND recordedAt = :recorded")
            .expression_attribute_names("#run", "run")
            .expression_attribute_values(":run", s(&stale.run))
            .expression_attribute_values(":recorded", s(&stale.recorded_at))
            .send()
            .await;
        match put {
            Ok(_) => Ok(intent),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_conditional_check_failed_exception()) =>
            {
                self.get(place, stale.kind, &stale.key)
                    .await?
                    .ok_or_else(|| WorkflowError::LedgerConflict {
                        record: format!("{} {}", stale.kind.as_str(), stale.key),
                        detail: "it disappeared while a run renewed it".into(),
                    })
            }
            Err(e) => Err(WorkflowError::from_sdk("dynamodb:PutItem", e)),
        }
    }

    /// Confirms `creator`'s intent: the resource exists as `resource_id`. Confirming again with the
    /// same id is no change; a record another run created is never taken over.
    pub async fn confirm(
        &self,
        place: Place<'_>,
        kind: Kind,
        key: &str,
        creator: &Creator,
        resource_id: &str,
        attributes: &BTreeMap<String, String>,
    ) -> Result<Record> {
        let updated = self
            .dynamodb
            .update_item()
            .table_name(&self.table)
            .set_key(Some(Self::key_of(place, kind, key)))
            .update_expression("SET #state = :created, resourceId = :id, createdAt = :now, attributes = :attributes")
            .condition_expression("#run = :run AND (#state = :intent OR resourceId = :id)")
            .expression_attribute_names("#state", "state")
            .expression_attribute_names("#run", "run")
            .expression_attribute_values(":created", s("created"))
            .expression_attribute_values(":intent", s("intent"))
            .expression_attribute_values(":id", s(resource_id))
            .expression_attribute_values(":run", s(&creator.run_id))
            .expression_attribute_values(":now", s(Timestamp::now().to_string()))
            .expression_attribute_values(":attributes", attribute_map(attributes))
            .return_values(ReturnValue::AllNew)
            .return_values_on_condition_check_failure(AllOld)
            .send()
            .await;
        match updated {
            Ok(out) => Record::from_item(out.attributes().ok_or_else(|| WorkflowError::AwsApiError {
                operation: "dynamodb:UpdateItem".into(),
                code: "NoAttributes".into(),
                message: "the ledger confirmed a record but returned none".into(),
            })?),
            Err(err) => {
                let existing = condition_failed("dynamodb:UpdateItem", err, |e| match e {
                    UpdateItemError::ConditionalCheckFailedException(f) => Some(f.item()),
                    _ => None,
                })?;
                Err(WorkflowError::LedgerConflict {
                    record: format!("{} {key}", kind.as_str()),
                    detail: match existing.as_ref().map(Record::from_item).transpose()? {
                        Some(found) => format!(
                            "it records {} by run {}, and run {} tried to record {resource_id}",
                            found.resource_id.as_deref().unwrap_or("an intent"),
                            found.run,
                            creator.run_id
                        ),
                        None => format!(
                            "run {} confirmed {resource_id} without recording its intent first",
                            creator.run_id
                        ),
                    },
                })
            }
        }
    }

    /// Sets facts on an existing record (a file system's replication, after it was configured).
    pub async fn set_attributes(
        &self,
        place: Place<'_>,
        kind: Kind,
        key: &str,
        attributes: &BTreeMap<String, String>,
    ) -> Result<()> {
        let mut update = self
            .dynamodb
            .update_item()
            .table_name(&self.table)
            .set_key(Some(Self::key_of(place, kind, key)))
            .condition_expression("attribute_exists(sk)")
            .expression_attribute_names("#attributes", "attributes");
        let mut sets = Vec::new();
        for (i, (name, value)) in attributes.iter().enumerate() {
            sets.push(format!("#attributes.#a{i} = :v{i}"));
            update = update
                .expression_attribute_names(format!("#a{i}"), name)
                .expression_attribute_values(format!(":v{i}"), s(value));
        }
        if sets.is_empty() {
            return Ok(());
        }
        update
            .update_expression(format!("SET {}", sets.join(", ")))
            .send()
            .await
            .map_err(|e| WorkflowError::from_sdk("dynamodb:UpdateItem", e))?;
        Ok(())
    }

    /// Removes a record once its resource is gone (a record already gone is no error).
    pub async fn forget(&self, place: Place<'_>, kind: Kind, key: &str) -> Result<()> {
        self.dynamodb
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(Self::key_of(place, kind, key)))
            .send()
            .await
            .map_err(|e| WorkflowError::from_sdk("dynamodb:DeleteItem", e))?;
        Ok(())
    }

    /// Adds `user` to a shared record's users (a namespace that uses a key another one created).
    pub async fn add_user(&self, place: Place<'_>, kind: Kind, key: &str, user: &str) -> Result<()> {
        self.change_users("ADD", place, kind, key, user).await
    }

    /// Removes `user` from a shared record's users.
    pub async fn remove_user(&self, place: Place<'_>, kind: Kind, key: &str, user: &str) -> Result<()> {
        self.change_users("DELETE", place, kind, key, user).await
    }

    async fn change_users(&self, verb: &str, place: Place<'_>, kind: Kind, key: &str, user: &str) -> Result<()> {
        let changed = self
            .dynamodb
            .update_item()
            .table_name(&self.table)
            .set_key(Some(Self::key_of(place, kind, key)))
            .update_expression(format!("{verb} #users :user"))
            .condition_expression("attribute_exists(sk)")
            .expression_attribute_names("#users", "users")
            .expression_attribute_values(":user", AttributeValue::Ss(vec![user.to_string()]))
            .send()
            .await;
        // No record: nothing to count.
        super::item::updated(changed).map(|_| ())
    }
}
