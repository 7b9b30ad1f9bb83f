//! Kubernetes objects the workflow creates, each recorded in the ledger by its uid: applied only
//! when missing or recorded, deleted only while it is still the object the ledger records (an object
//! re-created under the same name by someone else is theirs). Labels stay, for people and for
//! `kubectl -l`, and decide nothing.

use std::collections::BTreeMap;
use std::fmt::Debug;

use kube::Resource;
use kube::api::Api;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::{CleanupScope, Kind, Recorder, Removal};
use crate::error::{Result, WorkflowError};
use crate::k8s::{Kube, describe};
use crate::ledger::{Ledger, NamespaceView, Place, Record};
use crate::ownership::{Owner, RUN_ID_KEY, label_value};

/// Whether `record` stands for `object`: its uid, or (an intent an interrupted call left) the run
/// label of the run that recorded it.
pub fn is_recorded<K: Resource>(record: &Record, object: &K) -> bool {
    let meta = object.meta();
    match (&record.resource_id, record.is_created()) {
        (Some(uid), true) => meta.uid.as_deref() == Some(uid.as_str()),
        _ => {
            meta.labels.as_ref().and_then(|l| l.get(RUN_ID_KEY)).map(String::as_str)
                == Some(label_value(&record.run).as_str())
        }
    }
}

/// The object of `name` when the ledger records it; one of that name the ledger does not record is
/// a `KubernetesObjectConflict`: the workflow neither uses, changes nor deletes it.
pub async fn get<K>(
    kube: &Kube,
    ledger: &Ledger,
    place: Place<'_>,
    kind: Kind,
    api: &Api<K>,
    name: &str,
) -> Result<Option<K>>
where
    K: Resource<DynamicType = ()> + Clone + DeserializeOwned + Debug,
{
    let Some(found) = kube.get(api, name).await? else {
        return Ok(None);
    };
    match ledger.get(place, kind, name).await? {
        Some(record) if is_recorded(&record, &found) => Ok(Some(found)),
        _ => Err(WorkflowError::KubernetesObjectConflict {
            object: describe(&found),
        }),
    }
}

/// Server-side applies an object of the workflow's: a missing one is recorded first and confirmed
/// with its uid; a recorded one converges; an unrecorded one of that name is a conflict.
pub async fn apply<K>(
    kube: &Kube,
    recorder: Recorder<'_>,
    place: Place<'_>,
    kind: Kind,
    api: &Api<K>,
    object: &K,
) -> Result<K>
where
    K: Resource<DynamicType = ()> + Clone + DeserializeOwned + Serialize + Debug,
{
    let name = object.meta().name.clone().unwrap_or_default();
    if get(kube, recorder.ledger, place, kind, api, &name).await?.is_none() {
        recorder.intend(place, kind, &name).await?;
    }
    let applied = kube.apply(api, object).await?;
    let uid = applied.meta().uid.clone().unwrap_or_default();
    recorder.settle(place, kind, &name, &uid, BTreeMap::new()).await?;
    Ok(applied)
}

/// Who made an object the workflow needs but does not own alone (shared by the cluster's
/// namespaces, or shipped by EKS).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Origin {
    /// This call created it.
    Created,
    /// The workflow created it earlier (the ledger records it), for this namespace or another.
    Workflow,
    /// Someone else did: the workflow uses it as it is and never changes or deletes it.
    Existing,
}

/// Creates an object when missing, recorded; one found is never changed.
pub async fn ensure<K>(
    kube: &Kube,
    recorder: Recorder<'_>,
    place: Place<'_>,
    kind: Kind,
    api: &Api<K>,
    object: &K,
) -> Result<Origin>
where
    K: Resource<DynamicType = ()> + Clone + DeserializeOwned + Serialize + Debug,
{
    let name = object.meta().name.clone().unwrap_or_default();
    if let Some(found) = kube.get(api, &name).await? {
        return Ok(match recorder.ledger.get(place, kind, &name).await? {
            Some(record) if is_recorded(&record, &found) => {
                let uid = found.meta().uid.clone().unwrap_or_default();
                recorder.settle(place, kind, &name, &uid, BTreeMap::new()).await?;
                Origin::Workflow
            }
            _ => Origin::Existing,
        });
    }
    let intent = recorder.intend(place, kind, &name).await?;
    if !kube.create_if_missing(api, object).await? {
        // Created between our read and our write: by the run whose intent stands (another
        // namespace's run on a shared object: it records it), else by someone else.
        if intent.run == recorder.creator.run_id {
            recorder.ledger.forget(place, kind, &name).await?;
            return Ok(Origin::Existing);
        }
        return Ok(Origin::Workflow);
    }
    let uid = kube
        .get(api, &name)
        .await?
        .and_then(|created| created.meta().uid.clone())
        .unwrap_or_default();
    recorder.settle(place, kind, &name, &uid, BTreeMap::new()).await?;
    Ok(Origin::Created)
}

/// [`ensure`] for an object only the workflow may hold under its name: one found that the ledger
/// does not record is a `KubernetesObjectConflict`, never used.
pub async fn ensure_ours<K>(
    kube: &Kube,
    recorder: Recorder<'_>,
    place: Place<'_>,
    kind: Kind,
    api: &Api<K>,
    object: &K,
) -> Result<Origin>
where
    K: Resource<DynamicType = ()> + Clone + DeserializeOwned + Serialize + Debug,
{
    match ensure(kube, recorder, place, kind, api, object).await? {
        Origin::Existing => Err(WorkflowError::KubernetesObjectConflict {
            object: describe(object),
        }),
        origin => Ok(origin),
    }
}

/// Deletes the recorded object `record` names when it is still that object; forgets the record
/// once the object is gone. While it still exists (deletion takes a while), says which it is
/// (`kind/namespace/name`).
pub async fn delete<K>(
    kube: &Kube,
    ledger: &Ledger,
    place: Place<'_>,
    record: &Record,
    api: &Api<K>,
) -> Result<Option<String>>
where
    K: Resource<DynamicType = ()> + Clone + DeserializeOwned + Debug,
{
    match kube.get(api, &record.key).await? {
        Some(found) if is_recorded(record, &found) => {
            if found.meta().deletion_timestamp.is_none() {
                kube.delete(api, &record.key).await?;
            }
            Ok(Some(describe(&found)))
        }
        // Gone, or someone else's object under the name now: ours no longer exists.
        _ => {
            ledger.forget(place, record.kind, &record.key).await?;
            Ok(None)
        }
    }
}

/// One namespace's objects as a run sees them: the cluster's API, and the ledger that says which
/// are the workflow's.
#[derive(Clone, Copy)]
pub struct Objects<'a> {
    pub kube: &'a Kube,
    pub recorder: Recorder<'a>,
}

impl Objects<'_> {
    /// The object of `name` when the ledger records it; an unrecorded one is a conflict.
    pub async fn get<K>(&self, kind: Kind, api: &Api<K>, name: &str) -> Result<Option<K>>
    where
        K: Resource<DynamicType = ()> + Clone + DeserializeOwned + Debug,
    {
        get(
            self.kube,
            self.recorder.ledger,
            self.recorder.namespace(),
            kind,
            api,
            name,
        )
        .await
    }

    /// [`apply`] in the namespace's part of the ledger.
    pub async fn apply<K>(&self, kind: Kind, api: &Api<K>, object: &K) -> Result<K>
    where
        K: Resource<DynamicType = ()> + Clone + DeserializeOwned + Serialize + Debug,
    {
        apply(self.kube, self.recorder, self.recorder.namespace(), kind, api, object).await
    }

    /// Deletes the recorded object `name` (one the ledger does not record is a conflict);
    /// `Ok(true)` while it still exists.
    pub async fn delete<K>(&self, kind: Kind, api: &Api<K>, name: &str) -> Result<bool>
    where
        K: Resource<DynamicType = ()> + Clone + DeserializeOwned + Debug,
    {
        let place = self.recorder.namespace();
        if self.get(kind, api, name).await?.is_none() {
            self.recorder.ledger.forget(place, kind, name).await?;
            return Ok(false);
        }
        let record =
            self.recorder
                .ledger
                .get(place, kind, name)
                .await?
                .ok_or_else(|| WorkflowError::LedgerConflict {
                    record: format!("{} {name}", kind.as_str()),
                    detail: "its record disappeared while the object was being deleted".into(),
                })?;
        Ok(delete(self.kube, self.recorder.ledger, place, &record, api)
            .await?
            .is_some())
    }
}

/// A namespace's cleanup on its cluster: what it may remove there, as the ledger records it.
#[derive(Clone, Copy)]
pub struct Sweep<'a> {
    pub kube: &'a Kube,
    pub ledger: &'a Ledger,
    pub owner: &'a Owner,
    pub view: &'a NamespaceView,
    pub scope: &'a CleanupScope,
}

impl Sweep<'_> {
    /// Deletes the namespace's recorded objects of `kind` (in a rollback: its run's).
    pub async fn remove_kind<K>(&self, kind: Kind, api: &Api<K>) -> Result<Removal>
    where
        K: Resource<DynamicType = ()> + Clone + DeserializeOwned + Debug,
    {
        let place = self.owner.place();
        let mut removal = Removal::done();
        for record in self.view.of_kind(kind) {
            if let Some(why) = self.scope.keeps(record) {
                removal = removal.kept(format!("{} {}", kind.as_str(), record.key), why);
            } else if let Some(deleting) = delete(self.kube, self.ledger, place, record, api).await? {
                removal.done = false;
                removal = removal.removed(deleting);
            }
        }
        Ok(removal)
    }
}

/// The object of `name` when it exists but the ledger does not record it (adopted, or not created
/// by the workflow): reported as kept, never touched.
pub async fn unrecorded<K>(
    kube: &Kube,
    ledger: &Ledger,
    place: Place<'_>,
    kind: Kind,
    api: &Api<K>,
    name: &str,
) -> Result<Removal>
where
    K: Resource<DynamicType = ()> + Clone + DeserializeOwned + Debug,
{
    let Some(found) = kube.get(api, name).await? else {
        return Ok(Removal::done());
    };
    let recorded = ledger
        .get(place, kind, name)
        .await?
        .is_some_and(|record| is_recorded(&record, &found));
    Ok(if recorded {
        Removal::done()
    } else {
        Removal::done().kept(describe(&found), super::NOT_RECORDED)
    })
}
