//! What the API server checks before it stores an object: the body decodes as the kind
//! (400 BadRequest otherwise, unknown fields dropped) and passes validation (422 Invalid).

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use k8s_openapi::api::admissionregistration::v1 as admission;
use k8s_openapi::api::apps::v1 as apps;
use k8s_openapi::api::core::v1 as core;
use k8s_openapi::api::rbac::v1 as rbac;
use k8s_openapi::api::storage::v1 as storage;

use crate::api::status::{ApiError, Cause};
use crate::kind::Kind;
use crate::quantity;
use crate::store::{deployment_validation, meta, rbac_validation, secrets};

const LABEL_REGEX: &str = "[a-z0-9]([-a-z0-9]*[a-z0-9])?";
const ACCESS_MODES: [&str; 4] = ["ReadWriteOnce", "ReadOnlyMany", "ReadWriteMany", "ReadWriteOncePod"];

/// Decodes `object` as `kind` and encodes it again, as the API server stores it.
pub fn normalize(kind: Kind, object: Value) -> Result<Value, ApiError> {
    match kind {
        Kind::Namespace => round_trip::<core::Namespace>(kind, object),
        Kind::Pod => round_trip::<core::Pod>(kind, object),
        Kind::PersistentVolume => round_trip::<core::PersistentVolume>(kind, object),
        Kind::PersistentVolumeClaim => round_trip::<core::PersistentVolumeClaim>(kind, object),
        Kind::ConfigMap => round_trip::<core::ConfigMap>(kind, object),
        Kind::Event => round_trip::<core::Event>(kind, object),
        Kind::StorageClass => round_trip::<storage::StorageClass>(kind, object),
        Kind::CsiDriver => round_trip::<storage::CSIDriver>(kind, object),
        Kind::Secret => round_trip::<core::Secret>(kind, secrets::fold_string_data(object)?),
        Kind::ClusterRole => round_trip::<rbac::ClusterRole>(kind, object),
        Kind::Role => round_trip::<rbac::Role>(kind, object),
        Kind::ClusterRoleBinding => round_trip::<rbac::ClusterRoleBinding>(kind, object),
        Kind::RoleBinding => round_trip::<rbac::RoleBinding>(kind, object),
        Kind::ServiceAccount => round_trip::<core::ServiceAccount>(kind, object),
        Kind::Deployment => round_trip::<apps::Deployment>(kind, object),
        Kind::ValidatingAdmissionPolicy => round_trip::<admission::ValidatingAdmissionPolicy>(kind, object),
        Kind::ValidatingAdmissionPolicyBinding => {
            round_trip::<admission::ValidatingAdmissionPolicyBinding>(kind, object)
        }
    }
}

fn round_trip<K: DeserializeOwned + Serialize>(kind: Kind, object: Value) -> Result<Value, ApiError> {
    let typed: K = serde_json::from_value(object)
        .map_err(|e| ApiError::bad_request(format!("the body is not a valid {}: {e}", kind.name())))?;
    serde_json::to_value(typed).map_err(|e| ApiError::bad_request(format!("can't encode {}: {e}", kind.name())))
}

/// Field validation of a normalized object.
pub fn validate(kind: Kind, object: &Value) -> Result<(), ApiError> {
    let name = meta::name(object);
    let mut causes = Vec::new();
    validate_name(kind, name, &mut causes);
    match kind {
        Kind::Pod => validate_pod_spec(&object["spec"], "spec", &mut causes),
        Kind::Deployment => deployment_validation::validate(object, &mut causes),
        Kind::PersistentVolume => validate_persistent_volume(object, &mut causes),
        Kind::PersistentVolumeClaim => validate_claim(object, &mut causes),
        Kind::StorageClass => require(object, "/provisioner", "provisioner", &mut causes),
        Kind::ClusterRole | Kind::Role => rbac_validation::validate_rules(kind, object, &mut causes),
        Kind::ClusterRoleBinding | Kind::RoleBinding => rbac_validation::validate_binding(kind, object, &mut causes),
        _ => {}
    }
    if causes.is_empty() {
        Ok(())
    } else {
        Err(ApiError::invalid(kind, name, causes))
    }
}

fn validate_name(kind: Kind, name: &str, causes: &mut Vec<Cause>) {
    if name.is_empty() {
        causes.push(required_with("metadata.name", "name or generateName is required"));
        return;
    }
    let problem = if kind == Kind::Namespace {
        dns_label_problem(name)
    } else {
        dns_subdomain_problem(name)
    };
    if let Some(problem) = problem {
        causes.push(invalid_value("metadata.name", name, &problem));
    }
}

/// A pod's `spec`, or a template's `spec.template.spec` (`field` names it in the causes).
pub fn validate_pod_spec(spec: &Value, field: &str, causes: &mut Vec<Cause>) {
    let containers = spec["containers"].as_array().map(Vec::as_slice).unwrap_or_default();
    if containers.is_empty() {
        causes.push(required(&format!("{field}.containers")));
    }
    let volumes: Vec<&str> = spec["volumes"]
        .as_array()
        .map(|volumes| volumes.iter().filter_map(|v| v["name"].as_str()).collect())
        .unwrap_or_default();
    for (i, container) in containers.iter().enumerate() {
        let field = format!("{field}.containers[{i}]");
        match container["name"].as_str() {
            None | Some("") => causes.push(required(&format!("{field}.name"))),
            Some(name) => {
                if let Some(problem) = dns_label_problem(name) {
                    causes.push(invalid_value(&format!("{field}.name"), name, &problem));
                }
            }
        }
        if container["image"].as_str().unwrap_or_default().is_empty() {
            causes.push(required(&format!("{field}.image")));
        }
        let mounts = container["volumeMounts"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default();
        for (j, mount) in mounts.iter().enumerate() {
            let volume = mount["name"].as_str().unwrap_or_default();
            if !volumes.contains(&volume) {
                causes.push(Cause {
                    reason: "FieldValueNotFound",
                    field: format!("{field}.volumeMounts[{j}].name"),
                    message: format!("Not found: \"{volume}\""),
                });
            }
        }
    }
}

fn validate_persistent_volume(pv: &Value, causes: &mut Vec<Cause>) {
    validate_quantity(pv, "/spec/capacity/storage", "spec.capacity", causes);
    validate_access_modes(pv, causes);
    const SOURCES: [&str; 8] = [
        "csi",
        "nfs",
        "hostPath",
        "local",
        "awsElasticBlockStore",
        "iscsi",
        "fc",
        "cephfs",
    ];
    if !SOURCES.iter().any(|source| pv["spec"][source].is_object()) {
        causes.push(required_with("spec", "must specify a volume type"));
    }
}

fn validate_claim(pvc: &Value, causes: &mut Vec<Cause>) {
    validate_access_modes(pvc, causes);
    validate_quantity(
        pvc,
        "/spec/resources/requests/storage",
        "spec.resources[storage]",
        causes,
    );
}

fn validate_access_modes(object: &Value, causes: &mut Vec<Cause>) {
    let modes = object["spec"]["accessModes"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    if modes.is_empty() {
        causes.push(required("spec.accessModes"));
    }
    for (i, mode) in modes.iter().enumerate() {
        let mode = mode.as_str().unwrap_or_default();
        if !ACCESS_MODES.contains(&mode) {
            causes.push(Cause {
                reason: "FieldValueNotSupported",
                field: format!("spec.accessModes[{i}]"),
                message: format!(
                    "Unsupported value: \"{mode}\": supported values: \"{}\"",
                    ACCESS_MODES.join("\", \"")
                ),
            });
        }
    }
}

fn validate_quantity(object: &Value, pointer: &str, field: &str, causes: &mut Vec<Cause>) {
    match object.pointer(pointer).and_then(Value::as_str) {
        None => causes.push(required(field)),
        Some(value) if quantity::parse(value).is_none() => causes.push(invalid_value(
            field,
            value,
            "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'",
        )),
        Some(_) => {}
    }
}

fn require(object: &Value, pointer: &str, field: &str, causes: &mut Vec<Cause>) {
    if object
        .pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .is_empty()
    {
        causes.push(required(field));
    }
}

pub fn required(field: &str) -> Cause {
    Cause {
        reason: "FieldValueRequired",
        field: field.into(),
        message: "Required value".into(),
    }
}

pub fn required_with(field: &str, detail: &str) -> Cause {
    Cause {
        reason: "FieldValueRequired",
        field: field.into(),
        message: format!("Required value: {detail}"),
    }
}

pub fn invalid_value(field: &str, value: &str, problem: &str) -> Cause {
    Cause {
        reason: "FieldValueInvalid",
        field: field.into(),
        message: format!("Invalid value: \"{value}\": {problem}"),
    }
}

fn is_dns_label(s: &str) -> bool {
    let bytes = s.as_bytes();
    let alnum = |b: &u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    !bytes.is_empty()
        && bytes.iter().all(|b| alnum(b) || *b == b'-')
        && bytes.first().is_some_and(alnum)
        && bytes.last().is_some_and(alnum)
}

/// A namespace or container name: an RFC 1123 label.
pub fn dns_label_problem(name: &str) -> Option<String> {
    if name.len() > 63 {
        return Some("must be no more than 63 characters".into());
    }
    (!is_dns_label(name)).then(|| {
        format!(
            "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start \
             and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is \
             '{LABEL_REGEX}')"
        )
    })
}

/// Most object names: an RFC 1123 subdomain (labels joined by dots).
pub fn dns_subdomain_problem(name: &str) -> Option<String> {
    if name.len() > 253 {
        return Some("must be no more than 253 characters".into());
    }
    (!name.split('.').all(is_dns_label)).then(|| {
        format!(
            "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and \
             must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is \
             '{LABEL_REGEX}(\\.{LABEL_REGEX})*')"
        )
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn causes(kind: Kind, object: Value) -> Vec<String> {
        let object = normalize(kind, object).unwrap();
        match validate(kind, &object) {
            Ok(()) => vec![],
            Err(e) => e.details.unwrap()["causes"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["field"].as_str().unwrap().to_string())
                .collect(),
        }
    }

    #[test]
    fn names_follow_rfc_1123() {
        assert!(dns_label_problem("poc-ns").is_none());
        assert!(dns_label_problem("a.b").is_some());
        assert!(dns_label_problem("-a").is_some());
        assert!(dns_subdomain_problem("efs.csi.aws.com").is_none());
        assert!(dns_subdomain_problem("Bad_Name").is_some());
        assert_eq!(
            causes(Kind::Namespace, json!({"metadata": {"name": "a.b"}})),
            ["metadata.name"]
        );
        assert_eq!(causes(Kind::ConfigMap, json!({"metadata": {}})), ["metadata.name"]);
    }

    #[test]
    fn pods_need_containers_with_images_and_known_volumes() {
        assert_eq!(
            causes(
                Kind::Pod,
                json!({"metadata": {"name": "p"}, "spec": {"containers": []}})
            ),
            ["spec.containers"]
        );
        let pod = json!({"metadata": {"name": "p"}, "spec": {"containers": [
            {"name": "app", "volumeMounts": [{"name": "data", "mountPath": "/data"}]}
        ]}});
        assert_eq!(
            causes(Kind::Pod, pod),
            ["spec.containers[0].image", "spec.containers[0].volumeMounts[0].name"]
        );
    }

    #[test]
    fn persistent_volumes_need_capacity_access_modes_and_a_source() {
        assert_eq!(
            causes(Kind::PersistentVolume, json!({"metadata": {"name": "pv"}, "spec": {}})),
            ["spec.capacity", "spec.accessModes", "spec"]
        );
        let pv = json!({"metadata": {"name": "pv"}, "spec": {
            "capacity": {"storage": "5Gi"}, "accessModes": ["ReadWriteMany"],
            "csi": {"driver": "efs.csi.aws.com", "volumeHandle": "fs-1"}
        }});
        assert!(causes(Kind::PersistentVolume, pv).is_empty());
    }

    #[test]
    fn claims_need_access_modes_and_a_request() {
        let pvc = json!({"metadata": {"name": "c"}, "spec": {"accessModes": ["Sometimes"]}});
        assert_eq!(
            causes(Kind::PersistentVolumeClaim, pvc),
            ["spec.accessModes[0]", "spec.resources[storage]"]
        );
    }

    #[test]
    fn undecodable_bodies_are_bad_requests() {
        let err = normalize(Kind::Pod, json!({"metadata": {"name": 3}})).unwrap_err();
        assert_eq!(err.status_code(), 400);
        let err = normalize(Kind::Pod, json!({"kind": "ConfigMap", "metadata": {"name": "p"}})).unwrap_err();
        assert_eq!(err.status_code(), 400);
    }
}
