//! Builders every kind of object shares: the workflow's metadata and a container that needs no
//! privilege.

use crate::run::Run;
use k8s_openapi::api::core::v1::{Capabilities, SeccompProfile, SecurityContext};
use kube::api::ObjectMeta;

/// Named, labelled as the run's (for people and selectors; the ledger decides ownership).
pub fn metadata(run: &Run, name: &str, namespace: Option<&str>) -> ObjectMeta {
    ObjectMeta {
        name: Some(name.into()),
        namespace: namespace.map(str::to_string),
        labels: Some(run.labels()),
        ..ObjectMeta::default()
    }
}

/// A container that needs no privilege: no escalation, no capability, a read-only root file
/// system and the runtime's seccomp profile (the "restricted" Pod Security Standard).
pub fn restricted() -> SecurityContext {
    SecurityContext {
        allow_privilege_escalation: Some(false),
        capabilities: Some(Capabilities {
            drop: Some(vec!["ALL".into()]),
            ..Capabilities::default()
        }),
        read_only_root_filesystem: Some(true),
        seccomp_profile: Some(SeccompProfile {
            type_: "RuntimeDefault".into(),
            ..SeccompProfile::default()
        }),
        ..SecurityContext::default()
    }
}
