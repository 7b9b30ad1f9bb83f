//! Discovery documents: `/version`, `/api`, `/apis`, `/apis/<group>`, and the resource lists of the served groups.

use serde_json::{Value, json};

use crate::kind::{Kind, NAMED_GROUPS, VERBS};

pub const GIT_VERSION: &str = "v1.33.0-eks-fake";

pub fn version() -> Value {
    json!({
        "major": "1",
        "minor": "33",
        "emulationMajor": "1",
        "emulationMinor": "33",
        "minCompatibilityMajor": "1",
        "minCompatibilityMinor": "32",
        "gitVersion": GIT_VERSION,
        "gitCommit": "0000000000000000000000000000000000000000",
        "gitTreeState": "clean",
        "buildDate": "2026-01-01T00:00:00Z",
        "goVersion": "go1.24.0",
        "compiler": "gc",
        "platform": "linux/amd64",
    })
}

/// `/api`: `APIVersions` of the core group.
pub fn core_versions(server_address: &str) -> Value {
    json!({
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}],
    })
}

fn named_group(name: &str) -> Value {
    let version = json!({"groupVersion": format!("{name}/v1"), "version": "v1"});
    json!({
        "name": name,
        "versions": [version],
        "preferredVersion": version,
    })
}

/// `/apis`: `APIGroupList`.
pub fn group_list() -> Value {
    let groups: Vec<Value> = NAMED_GROUPS.into_iter().map(named_group).collect();
    json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
}

/// `/apis/<name>`: `APIGroup`.
pub fn group(name: &str) -> Value {
    let mut group = named_group(name);
    group["kind"] = json!("APIGroup");
    group["apiVersion"] = json!("v1");
    group
}

/// `/api/v1` or `/apis/<group>/v1`: `APIResourceList`.
pub fn resource_list(group: &str) -> Value {
    let mut resources = Vec::new();
    for kind in Kind::ALL.into_iter().filter(|k| k.group() == group) {
        let mut resource = json!({
            "name": kind.plural(),
            "singularName": kind.singular(),
            "namespaced": kind.namespaced(),
            "kind": kind.name(),
            "verbs": VERBS,
        });
        if !kind.short_names().is_empty() {
            resource["shortNames"] = json!(kind.short_names());
        }
        resources.push(resource);
        if kind.has_status_subresource() {
            resources.push(subresource(kind, "status", &["get"]));
        }
        if kind == Kind::Pod {
            resources.push(subresource(kind, "log", &["get"]));
            resources.push(subresource(kind, "exec", &["create", "get"]));
        }
    }
    let group_version = if group.is_empty() {
        "v1".to_string()
    } else {
        format!("{group}/v1")
    };
    json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": group_version, "resources": resources})
}

fn subresource(kind: Kind, name: &str, verbs: &[&str]) -> Value {
    json!({
        "name": format!("{}/{name}", kind.plural()),
        "singularName": "",
        "namespaced": kind.namespaced(),
        "kind": kind.name(),
        "verbs": verbs,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resource_lists_cover_the_served_kinds() {
        let core = resource_list("");
        let names: Vec<&str> = core["resources"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["name"].as_str().unwrap())
            .collect();
        assert!(names.contains(&"pods/log"));
        assert!(names.contains(&"persistentvolumeclaims"));
        assert!(!names.contains(&"storageclasses"));
        assert!(names.contains(&"secrets"));
        let storage = resource_list(crate::kind::STORAGE_GROUP);
        assert_eq!(storage["groupVersion"], "storage.k8s.io/v1");
        assert_eq!(storage["resources"][0]["namespaced"], false);
        let rbac = resource_list(crate::kind::RBAC_GROUP);
        assert_eq!(rbac["resources"].as_array().unwrap().len(), 4);
        let apps = resource_list(crate::kind::APPS_GROUP);
        assert_eq!(apps["groupVersion"], "apps/v1");
        assert_eq!(apps["resources"][0]["name"], "deployments");
        assert_eq!(apps["resources"][0]["shortNames"], json!(["deploy"]));
        assert_eq!(apps["resources"][1]["name"], "deployments/status");
        assert!(names.contains(&"serviceaccounts"));
        let admission = resource_list(crate::kind::ADMISSION_GROUP);
        assert_eq!(admission["groupVersion"], "admissionregistration.k8s.io/v1");
        assert_eq!(admission["resources"][0]["name"], "validatingadmissionpolicies");
        assert_eq!(group_list()["groups"].as_array().unwrap().len(), 4);
        assert_eq!(group("apps")["preferredVersion"]["groupVersion"], "apps/v1");
    }
}
