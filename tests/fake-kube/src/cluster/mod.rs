//! The simulated cluster: the object store plus what the controllers, the Fargate scheduler and
//! the kubelet do in reaction to writes (binding claims, running pods, recording events).

pub mod binder;
pub mod efs;
mod efs_policy;
pub mod events;
pub mod fargate;
pub mod mounts;
pub mod pod_lifecycle;
pub mod pod_status;

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::task::AbortHandle;

use crate::api::status::ApiError;
use crate::auth::policies;
use crate::auth::rules::Rule;
use crate::clock::SimClock;
use crate::kind::Kind;
use crate::logs::Logs;
use crate::store::selector::Selectors;
use crate::store::{ObjectKey, Store, meta};
use crate::volumes::FileSystems;

/// The namespaces every cluster starts with (plus the ClusterRoles `cluster-admin`, `admin`,
/// `edit` and `view`).
const INITIAL_NAMESPACES: [&str; 4] = ["default", "kube-system", "kube-public", "kube-node-lease"];

/// What the simulation needs to know about the cluster.
#[derive(Clone, Debug)]
pub struct ClusterSettings {
    pub cluster_name: String,
    pub region: String,
    pub eks: Option<aws_sdk_eks::Client>,
    pub efs: Option<aws_sdk_efs::Client>,
    pub pod_start_delay: Duration,
}

#[derive(Debug)]
pub struct Cluster {
    pub settings: ClusterSettings,
    pub clock: SimClock,
    store: Mutex<Store>,
    file_systems: FileSystems,
    logs: Arc<Logs>,
    /// The running pod simulations, by pod uid.
    pods: Mutex<HashMap<String, AbortHandle>>,
    next_ip: AtomicU32,
}

impl Cluster {
    pub fn new(settings: ClusterSettings, clock: SimClock) -> Arc<Self> {
        let mut store = Store::default();
        for namespace in INITIAL_NAMESPACES {
            store
                .create(
                    Kind::Namespace,
                    "",
                    json!({"metadata": {"name": namespace}}),
                    clock.now(),
                )
                .expect("the initial namespaces are valid");
        }
        for (name, rules) in policies::bootstrap_cluster_roles() {
            let rules: Vec<Value> = rules.iter().map(Rule::to_json).collect();
            let labels = json!({"kubernetes.io/bootstrapping": "rbac-defaults"});
            store
                .create(
                    Kind::ClusterRole,
                    "",
                    json!({"metadata": {"name": name, "labels": labels}, "rules": rules}),
                    clock.now(),
                )
                .expect("the bootstrap cluster roles are valid");
        }
        Arc::new(Self {
            settings,
            clock,
            store: Mutex::new(store),
            file_systems: FileSystems::default(),
            logs: Arc::default(),
            pods: Mutex::default(),
            next_ip: AtomicU32::new(0),
        })
    }

    pub fn store(&self) -> MutexGuard<'_, Store> {
        self.store.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub fn get(&self, key: &ObjectKey) -> Result<Value, ApiError> {
        self.store()
            .get(key)
            .cloned()
            .ok_or_else(|| ApiError::not_found(key.kind, &key.name))
    }

    /// The matching objects and the store's current resourceVersion.
    pub fn list(&self, kind: Kind, namespace: Option<&str>, selectors: &Selectors) -> (Vec<Value>, u64) {
        let store = self.store();
        let items = store
            .list(kind, namespace)
            .filter(|object| selectors.matches(object))
            .cloned()
            .collect();
        (items, store.revision())
    }

    pub fn create(self: &Arc<Self>, kind: Kind, namespace: &str, body: Value) -> Result<Value, ApiError> {
        let created = {
            let mut store = self.store();
            let created = store.create(kind, namespace, body, self.clock.now())?;
            after_write(&mut store, kind);
            created
        };
        self.start_if_pod(kind, &created);
        Ok(created)
    }

    /// Server-side apply (create or merge); `true` when it created the object.
    pub fn apply(self: &Arc<Self>, key: &ObjectKey, body: Value) -> Result<(Value, bool), ApiError> {
        let (applied, created) = {
            let mut store = self.store();
            let existed = store.get(key).is_some();
            let applied = store.apply(key, body, self.clock.now())?;
            after_write(&mut store, key.kind);
            (applied, !existed)
        };
        if created {
            self.start_if_pod(key.kind, &applied);
        }
        Ok((applied, created))
    }

    pub fn merge_patch(&self, key: &ObjectKey, patch: &Value) -> Result<Value, ApiError> {
        let mut store = self.store();
        let patched = store.merge_patch(key, patch)?;
        after_write(&mut store, key.kind);
        Ok(patched)
    }

    /// Deletes at once (no finalizers, no grace period) and returns the deleted object.
    pub fn delete(&self, key: &ObjectKey) -> Result<Value, ApiError> {
        let removed = {
            let mut store = self.store();
            let removed = store.delete(key)?;
            after_write(&mut store, key.kind);
            removed
        };
        for (removed_key, object) in &removed {
            if removed_key.kind == Kind::Pod {
                self.stop_pod(meta::uid(object));
            }
        }
        let (_, object) = removed.into_iter().next().expect("delete returns the object first");
        Ok(object)
    }

    /// What a container printed; errors like the API server's for pods that have not started.
    pub fn logs(
        &self,
        namespace: &str,
        pod: &str,
        container: Option<&str>,
        tail_lines: Option<usize>,
    ) -> Result<String, ApiError> {
        let pod_object = self.get(&ObjectKey::new(Kind::Pod, namespace, pod))?;
        let names: Vec<&str> = pod_object["spec"]["containers"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|c| c["name"].as_str())
            .collect();
        let container = match (container, names.as_slice()) {
            (Some(name), _) if names.contains(&name) => name,
            (Some(name), _) => {
                return Err(ApiError::bad_request(format!(
                    "container {name} is not valid for pod {pod}"
                )));
            }
            (None, [only]) => only,
            (None, _) => {
                return Err(ApiError::bad_request(format!(
                    "a container name must be specified for pod {pod}, choose one of: [{}]",
                    names.join(" ")
                )));
            }
        };
        self.logs
            .read(meta::uid(&pod_object), container, tail_lines)
            .ok_or_else(|| {
                ApiError::bad_request(format!(
                    "container \"{container}\" in pod \"{pod}\" is waiting to start: ContainerCreating"
                ))
            })
    }

    /// The files of an EFS file system.
    pub fn files(&self, file_system_id: &str) -> BTreeMap<String, String> {
        self.file_systems.files(file_system_id)
    }

    /// Stops every pod simulation (the server is going away).
    pub fn stop_all_pods(&self) {
        let pods = std::mem::take(&mut *self.pods.lock().unwrap_or_else(|poisoned| poisoned.into_inner()));
        for handle in pods.into_values() {
            handle.abort();
        }
    }

    /// The next Fargate pod address: 10.0.10.5, 10.0.10.6, ...
    fn allocate_ip(&self) -> String {
        let n = self.next_ip.fetch_add(1, Ordering::Relaxed);
        format!("10.0.{}.{}", 10 + n / 250, 5 + n % 250)
    }

    fn start_if_pod(self: &Arc<Self>, kind: Kind, object: &Value) {
        if kind != Kind::Pod {
            return;
        }
        let key = ObjectKey::of(kind, object);
        let uid = meta::uid(object).to_string();
        let task = tokio::spawn(pod_lifecycle::run(Arc::clone(self), key, uid.clone()));
        self.pods
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .insert(uid, task.abort_handle());
    }

    fn stop_pod(&self, uid: &str) {
        let handle = self
            .pods
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .remove(uid);
        if let Some(handle) = handle {
            handle.abort();
        }
        self.logs.remove_pod(uid);
    }
}

/// Controllers that react synchronously to a write.
fn after_write(store: &mut Store, kind: Kind) {
    if matches!(
        kind,
        Kind::PersistentVolume | Kind::PersistentVolumeClaim | Kind::Namespace
    ) {
        binder::reconcile(store);
    }
}
