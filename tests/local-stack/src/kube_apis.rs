//! Where each cluster's Kubernetes API is. The gateway writes it into moto's `DescribeCluster` and
//! `CreateCluster` answers (`endpoint`, `certificateAuthority.data`, as EKS answers them), so the
//! workflow finds every fake API server the way it finds a cluster's API on AWS: no override.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::Value;

/// A cluster's API server: its `https://` endpoint and the PEM of the CA that signed it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KubeApi {
    pub endpoint: String,
    pub ca_pem: String,
}

/// The API servers by cluster name. Cheap to clone: the clones share one map.
#[derive(Clone, Debug, Default)]
pub struct KubeApis {
    by_cluster: Arc<Mutex<HashMap<String, KubeApi>>>,
}

impl KubeApis {
    pub fn register(&self, cluster: &str, api: KubeApi) {
        self.lock().insert(cluster.to_string(), api);
    }

    /// Fills `answer` (`{"cluster": {...}}`) with the API of its cluster, if one is registered.
    pub(crate) fn describe(&self, answer: &mut Value) {
        let Some(name) = answer["cluster"]["name"].as_str() else {
            return;
        };
        let Some(api) = self.lock().get(name).cloned() else {
            return;
        };
        answer["cluster"]["endpoint"] = Value::String(api.endpoint);
        answer["cluster"]["certificateAuthority"] = serde_json::json!({"data": STANDARD.encode(api.ca_pem)});
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, KubeApi>> {
        self.by_cluster
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn only_a_registered_cluster_gets_an_api() {
        let apis = KubeApis::default();
        apis.register(
            "a",
            KubeApi {
                endpoint: "https://127.0.0.1:1".into(),
                ca_pem: "PEM".into(),
            },
        );
        let mut a = json!({"cluster": {"name": "a", "endpoint": "https://moto"}});
        apis.describe(&mut a);
        assert_eq!(a["cluster"]["endpoint"], "https://127.0.0.1:1");
        assert_eq!(a["cluster"]["certificateAuthority"]["data"], STANDARD.encode("PEM"));
        let mut b = json!({"cluster": {"name": "b", "endpoint": "https://moto"}});
        apis.describe(&mut b);
        assert_eq!(b["cluster"]["endpoint"], "https://moto");
    }
}
