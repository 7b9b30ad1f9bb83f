//! The object store: every object as JSON under (kind, namespace, name), one global
//! `resourceVersion` counter, and the API semantics of create, server-side apply (create or merge),
//! merge patch and delete.

pub mod defaults;
pub mod deployment_validation;
pub mod merge;
pub mod meta;
pub mod rbac_validation;
pub mod secrets;
pub mod selector;
pub mod validation;

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde_json::{Value, json};

use crate::api::status::ApiError;
use crate::kind::Kind;

/// Where an object lives; `namespace` is empty for cluster-scoped kinds.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ObjectKey {
    pub kind: Kind,
    pub namespace: String,
    pub name: String,
}

impl ObjectKey {
    pub fn new(kind: Kind, namespace: &str, name: &str) -> Self {
        Self {
            kind,
            namespace: if kind.namespaced() {
                namespace.into()
            } else {
                String::new()
            },
            name: name.into(),
        }
    }

    /// The key of a stored object.
    pub fn of(kind: Kind, object: &Value) -> Self {
        Self::new(kind, meta::namespace(object), meta::name(object))
    }
}

#[derive(Debug, Default)]
pub struct Store {
    objects: BTreeMap<ObjectKey, Value>,
    revision: u64,
}

impl Store {
    pub fn get(&self, key: &ObjectKey) -> Option<&Value> {
        self.objects.get(key)
    }

    /// Objects of `kind` (in `namespace` when given), ordered by namespace and name.
    pub fn list(&self, kind: Kind, namespace: Option<&str>) -> impl Iterator<Item = &Value> {
        self.objects
            .iter()
            .filter(move |(key, _)| key.kind == kind && namespace.is_none_or(|ns| key.namespace == ns))
            .map(|(_, object)| object)
    }

    /// The latest `resourceVersion` handed out.
    pub fn revision(&self) -> u64 {
        self.revision
    }

    /// `POST` to a collection.
    pub fn create(&mut self, kind: Kind, namespace: &str, body: Value, now: Timestamp) -> Result<Value, ApiError> {
        let mut object = expect_object(body)?;
        place_in_namespace(kind, namespace, &mut object)?;
        if meta::name(&object).is_empty()
            && let Some(prefix) = object["metadata"]["generateName"].as_str()
        {
            let name = format!("{prefix}{}", meta::random_suffix(5));
            meta::set(&mut object, "name", name);
        }
        let mut object = validation::normalize(kind, object)?;
        validation::validate(kind, &object)?;
        let key = ObjectKey::of(kind, &object);
        if self.objects.contains_key(&key) {
            return Err(ApiError::already_exists(kind, &key.name));
        }
        self.require_namespace(kind, namespace)?;
        if let Some(fields) = object.as_object_mut() {
            fields.remove("status");
        }
        defaults::apply_create_defaults(kind, &mut object);
        meta::set(&mut object, "uid", meta::new_uid());
        meta::set(&mut object, "creationTimestamp", now.to_string());
        Ok(self.put(key, object))
    }

    /// Server-side apply: creates the object, or merges `body` into it.
    pub fn apply(&mut self, key: &ObjectKey, body: Value, now: Timestamp) -> Result<Value, ApiError> {
        let body = expect_object(body)?;
        for field in ["apiVersion", "kind"] {
            if body[field].as_str().unwrap_or_default().is_empty() {
                return Err(ApiError::bad_request(format!("{field} must be set in an apply patch")));
            }
        }
        check_name_matches_url(key, &body)?;
        if self.objects.contains_key(key) {
            self.merge_patch(key, &body)
        } else {
            self.create(key.kind, &key.namespace, body, now)
        }
    }

    /// JSON merge patch of an existing object (strategic merge patches are treated the same way).
    pub fn merge_patch(&mut self, key: &ObjectKey, patch: &Value) -> Result<Value, ApiError> {
        let existing = self.get(key).ok_or_else(|| ApiError::not_found(key.kind, &key.name))?;
        check_name_matches_url(key, patch)?;
        // A resourceVersion in the write is a precondition (optimistic concurrency).
        if let Some(version) = patch.pointer("/metadata/resourceVersion").and_then(Value::as_str)
            && Some(version) != existing.pointer("/metadata/resourceVersion").and_then(Value::as_str)
        {
            return Err(ApiError::conflict(key.kind, &key.name));
        }
        let mut merged = existing.clone();
        merge::merge_patch(&mut merged, patch);
        for field in ["name", "namespace", "uid", "creationTimestamp"] {
            merged["metadata"][field] = existing["metadata"][field].clone();
        }
        if key.kind.has_status_subresource() {
            merged["status"] = existing["status"].clone();
        }
        if !key.kind.namespaced()
            && let Some(metadata) = merged["metadata"].as_object_mut()
        {
            metadata.remove("namespace");
        }
        let merged = validation::normalize(key.kind, merged)?;
        validation::validate(key.kind, &merged)?;
        rbac_validation::validate_update(key.kind, existing, &merged)?;
        if key.kind == Kind::Deployment {
            deployment_validation::validate_update(existing, &merged)?;
        }
        Ok(self.put(key.clone(), merged))
    }

    /// Removes the object; a namespace takes its namespaced objects with it, and the garbage
    /// collector (background propagation) the objects whose `ownerReferences` name it. Returns
    /// everything removed, the object itself first.
    pub fn delete(&mut self, key: &ObjectKey) -> Result<Vec<(ObjectKey, Value)>, ApiError> {
        let object = self
            .objects
            .remove(key)
            .ok_or_else(|| ApiError::not_found(key.kind, &key.name))?;
        self.revision += 1;
        let uid = meta::uid(&object).to_string();
        let mut removed = vec![(key.clone(), object)];
        let dependents: Vec<ObjectKey> = self
            .objects
            .iter()
            .filter(|(_, o)| {
                o.pointer("/metadata/ownerReferences")
                    .and_then(Value::as_array)
                    .is_some_and(|owners| {
                        owners
                            .iter()
                            .any(|r| r.get("uid").and_then(Value::as_str) == Some(&uid))
                    })
            })
            .map(|(k, _)| k.clone())
            .collect();
        for dependent in dependents {
            removed.extend(self.delete(&dependent).unwrap_or_default());
        }
        if key.kind == Kind::Namespace {
            let contained: Vec<ObjectKey> = self
                .objects
                .keys()
                .filter(|k| k.kind.namespaced() && k.namespace == key.name)
                .cloned()
                .collect();
            for contained_key in contained {
                if let Some(object) = self.objects.remove(&contained_key) {
                    removed.push((contained_key, object));
                }
            }
        }
        Ok(removed)
    }

    /// A write by the system (a controller): changes the object if it still exists with `uid`.
    pub fn update(&mut self, key: &ObjectKey, uid: &str, change: impl FnOnce(&mut Value)) {
        let Some(object) = self.objects.get(key).filter(|o| meta::uid(o) == uid) else {
            return;
        };
        let mut changed = object.clone();
        change(&mut changed);
        if &changed != object {
            self.put(key.clone(), changed);
        }
    }

    fn put(&mut self, key: ObjectKey, mut object: Value) -> Value {
        self.revision += 1;
        meta::set(&mut object, "resourceVersion", self.revision.to_string());
        self.objects.insert(key, object.clone());
        object
    }

    fn require_namespace(&self, kind: Kind, namespace: &str) -> Result<(), ApiError> {
        if kind.namespaced()
            && !self
                .objects
                .contains_key(&ObjectKey::new(Kind::Namespace, "", namespace))
        {
            return Err(ApiError::not_found(Kind::Namespace, namespace));
        }
        Ok(())
    }
}

fn expect_object(body: Value) -> Result<Value, ApiError> {
    if body.is_object() {
        Ok(body)
    } else {
        Err(ApiError::bad_request("the request body must be a JSON object"))
    }
}

/// Sets `metadata.namespace` from the URL (namespaced kinds) or drops it (cluster-scoped kinds).
fn place_in_namespace(kind: Kind, namespace: &str, object: &mut Value) -> Result<(), ApiError> {
    if !object["metadata"].is_object() {
        object["metadata"] = json!({});
    }
    let given = meta::namespace(object).to_string();
    if kind.namespaced() {
        if !given.is_empty() && given != namespace {
            return Err(ApiError::bad_request(
                "the namespace of the provided object does not match the namespace sent on the request",
            ));
        }
        meta::set(object, "namespace", namespace);
    } else if let Some(metadata) = object["metadata"].as_object_mut() {
        metadata.remove("namespace");
    }
    Ok(())
}

fn check_name_matches_url(key: &ObjectKey, body: &Value) -> Result<(), ApiError> {
    match body["metadata"]["name"].as_str() {
        Some(name) if name != key.name => Err(ApiError::bad_request(format!(
            "the name of the object ({name}) does not match the name on the URL ({})",
            key.name
        ))),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::status::Reason;

    fn store_with_namespace(name: &str) -> Store {
        let mut store = Store::default();
        store
            .create(
                Kind::Namespace,
                "",
                json!({"metadata": {"name": name}}),
                Timestamp::now(),
            )
            .unwrap();
        store
    }

    fn config_map(name: &str, data: Value) -> Value {
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": data})
    }

    #[test]
    fn create_stamps_metadata_and_refuses_duplicates() {
        let mut store = store_with_namespace("ns");
        let created = store
            .create(
                Kind::ConfigMap,
                "ns",
                config_map("cm", json!({"a": "1"})),
                Timestamp::now(),
            )
            .unwrap();
        assert_eq!(created["metadata"]["namespace"], "ns");
        assert_eq!(created["metadata"]["resourceVersion"], "2");
        assert!(!meta::uid(&created).is_empty());
        assert!(created["metadata"]["creationTimestamp"].is_string());
        let err = store
            .create(Kind::ConfigMap, "ns", config_map("cm", json!({})), Timestamp::now())
            .unwrap_err();
        assert_eq!(err.status_code(), 409);
    }

    #[test]
    fn namespaced_objects_need_their_namespace() {
        let mut store = Store::default();
        let err = store
            .create(Kind::ConfigMap, "nope", config_map("cm", json!({})), Timestamp::now())
            .unwrap_err();
        assert_eq!(err.message, "namespaces \"nope\" not found");
    }

    #[test]
    fn apply_creates_then_merges() {
        let mut store = store_with_namespace("ns");
        let key = ObjectKey::new(Kind::ConfigMap, "ns", "cm");
        let first = store
            .apply(&key, config_map("cm", json!({"a": "1"})), Timestamp::now())
            .unwrap();
        let second = store
            .apply(&key, config_map("cm", json!({"b": "2"})), Timestamp::now())
            .unwrap();
        assert_eq!(second["data"], json!({"a": "1", "b": "2"}));
        assert_eq!(meta::uid(&first), meta::uid(&second));
        let err = store
            .apply(&key, config_map("other", json!({})), Timestamp::now())
            .unwrap_err();
        assert_eq!(err.status_code(), 400);
    }

    #[test]
    fn a_write_with_a_stale_resource_version_is_a_conflict() {
        let mut store = store_with_namespace("ns");
        let key = ObjectKey::new(Kind::ConfigMap, "ns", "cm");
        let first = store
            .apply(&key, config_map("cm", json!({"a": "1"})), Timestamp::now())
            .unwrap();
        let version = first["metadata"]["resourceVersion"].clone();
        let current = store
            .merge_patch(
                &key,
                &json!({"metadata": {"resourceVersion": version}, "data": {"a": "2"}}),
            )
            .unwrap();
        assert_eq!(current["data"]["a"], "2");
        let err = store
            .merge_patch(
                &key,
                &json!({"metadata": {"resourceVersion": version}, "data": {"a": "3"}}),
            )
            .unwrap_err();
        assert_eq!((err.status_code(), err.reason), (409, Reason::Conflict));
        assert_eq!(store.get(&key).unwrap()["data"]["a"], "2");
    }

    #[test]
    fn deployment_writes_keep_the_status_and_the_selector() {
        let mut store = store_with_namespace("ns");
        let key = ObjectKey::new(Kind::Deployment, "ns", "d");
        let deployment = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"}, "spec": {
            "selector": {"matchLabels": {"app": "d"}},
            "template": {"metadata": {"labels": {"app": "d"}}, "spec": {"containers": [{"name": "c", "image": "i"}]}},
        }});
        let created = store.apply(&key, deployment, Timestamp::now()).unwrap();
        assert_eq!(created["spec"]["replicas"], 1);
        let patched = store
            .merge_patch(&key, &json!({"spec": {"replicas": 2}, "status": {"replicas": 5}}))
            .unwrap();
        assert_eq!(patched["spec"]["replicas"], 2);
        assert_eq!(patched["status"], json!({}));
        let err = store
            .merge_patch(
                &key,
                &json!({"spec": {"selector": {"matchLabels": {"app": "e"}}, "template": {"metadata": {"labels": {"app": "e"}}}}}),
            )
            .unwrap_err();
        assert_eq!(err.status_code(), 422);
    }

    #[test]
    fn patches_keep_the_system_owned_status() {
        let mut store = store_with_namespace("ns");
        let key = ObjectKey::new(Kind::Namespace, "", "ns");
        let patched = store
            .merge_patch(
                &key,
                &json!({"metadata": {"labels": {"x": "y"}}, "status": {"phase": "Gone"}}),
            )
            .unwrap();
        assert_eq!(patched["status"]["phase"], "Active");
        assert_eq!(patched["metadata"]["labels"]["x"], "y");
    }

    #[test]
    fn deleting_a_namespace_removes_what_it_contains() {
        let mut store = store_with_namespace("ns");
        store
            .create(Kind::ConfigMap, "ns", config_map("cm", json!({})), Timestamp::now())
            .unwrap();
        store
            .create(
                Kind::ServiceAccount,
                "ns",
                json!({"metadata": {"name": "sa"}}),
                Timestamp::now(),
            )
            .unwrap();
        let deployment = json!({"metadata": {"name": "d"}, "spec": {
            "selector": {"matchLabels": {"app": "d"}},
            "template": {"metadata": {"labels": {"app": "d"}}, "spec": {"containers": [{"name": "c", "image": "i"}]}},
        }});
        store
            .create(Kind::Deployment, "ns", deployment, Timestamp::now())
            .unwrap();
        let removed = store.delete(&ObjectKey::new(Kind::Namespace, "", "ns")).unwrap();
        assert_eq!(removed.len(), 4);
        for kind in [Kind::ConfigMap, Kind::ServiceAccount, Kind::Deployment] {
            assert_eq!(store.list(kind, None).count(), 0, "{kind:?}");
        }
        let err = store.delete(&ObjectKey::new(Kind::Namespace, "", "ns")).unwrap_err();
        assert_eq!(err.status_code(), 404);
    }
}
