//! The PersistentVolume controller: binds pending claims to matching volumes, releases volumes
//! whose claim is gone (Retain: a released volume never binds again), marks claims whose volume
//! is gone `Lost`.

use jiff::Timestamp;
use k8s_openapi::api::core::v1::{PersistentVolume, PersistentVolumeClaim};
use serde_json::{Value, json};

use crate::kind::Kind;
use crate::quantity;
use crate::store::{ObjectKey, Store, meta};

pub fn reconcile(store: &mut Store) {
    release_orphaned_volumes(store);
    mark_lost_claims(store);
    bind_pending_claims(store);
}

fn volumes(store: &Store) -> Vec<(Value, PersistentVolume)> {
    typed(store, Kind::PersistentVolume)
}

fn claims(store: &Store) -> Vec<(Value, PersistentVolumeClaim)> {
    let mut claims: Vec<(Value, PersistentVolumeClaim)> = typed(store, Kind::PersistentVolumeClaim);
    claims.sort_by_key(|(_, claim)| {
        claim
            .metadata
            .creation_timestamp
            .as_ref()
            .map(|t| t.0)
            .unwrap_or(Timestamp::MIN)
    });
    claims
}

fn typed<K: serde::de::DeserializeOwned>(store: &Store, kind: Kind) -> Vec<(Value, K)> {
    store
        .list(kind, None)
        .filter_map(|object| Some((object.clone(), serde_json::from_value(object.clone()).ok()?)))
        .collect()
}

fn phase_of_volume(pv: &PersistentVolume) -> &str {
    pv.status.as_ref().and_then(|s| s.phase.as_deref()).unwrap_or_default()
}

fn phase_of_claim(pvc: &PersistentVolumeClaim) -> &str {
    pvc.status.as_ref().and_then(|s| s.phase.as_deref()).unwrap_or_default()
}

fn release_orphaned_volumes(store: &mut Store) {
    for (object, pv) in volumes(store) {
        let Some(claim_ref) = pv.spec.as_ref().and_then(|s| s.claim_ref.as_ref()) else {
            continue;
        };
        if phase_of_volume(&pv) != "Bound" {
            continue;
        }
        let claim_key = ObjectKey::new(
            Kind::PersistentVolumeClaim,
            claim_ref.namespace.as_deref().unwrap_or_default(),
            claim_ref.name.as_deref().unwrap_or_default(),
        );
        let claim_alive = store
            .get(&claim_key)
            .is_some_and(|claim| claim_ref.uid.as_deref().is_none_or(|uid| uid == meta::uid(claim)));
        if !claim_alive {
            tracing::info!(volume = meta::name(&object), "claim deleted: volume released (Retain)");
            store.update(
                &ObjectKey::of(Kind::PersistentVolume, &object),
                meta::uid(&object),
                |pv| {
                    pv["status"]["phase"] = json!("Released");
                },
            );
        }
    }
}

fn mark_lost_claims(store: &mut Store) {
    for (object, pvc) in claims(store) {
        let volume_name = pvc
            .spec
            .as_ref()
            .and_then(|s| s.volume_name.as_deref())
            .unwrap_or_default();
        if phase_of_claim(&pvc) != "Bound"
            || store
                .get(&ObjectKey::new(Kind::PersistentVolume, "", volume_name))
                .is_some()
        {
            continue;
        }
        store.update(
            &ObjectKey::of(Kind::PersistentVolumeClaim, &object),
            meta::uid(&object),
            |pvc| {
                pvc["status"]["phase"] = json!("Lost");
            },
        );
    }
}

fn bind_pending_claims(store: &mut Store) {
    for (claim_object, claim) in claims(store) {
        if phase_of_claim(&claim) != "Pending" {
            continue;
        }
        let best = volumes(store)
            .into_iter()
            .filter(|(_, pv)| satisfies(pv, &claim, &claim_object))
            .min_by(|(_, a), (_, b)| storage(a).total_cmp(&storage(b)));
        if let Some((volume_object, volume)) = best {
            bind(store, &volume_object, &volume, &claim_object, &claim);
        }
    }
}

fn storage(pv: &PersistentVolume) -> f64 {
    pv.spec
        .as_ref()
        .and_then(|s| s.capacity.as_ref())
        .and_then(|c| c.get("storage"))
        .and_then(|q| quantity::parse(&q.0))
        .unwrap_or(0.0)
}

fn requested(pvc: &PersistentVolumeClaim) -> f64 {
    pvc.spec
        .as_ref()
        .and_then(|s| s.resources.as_ref())
        .and_then(|r| r.requests.as_ref())
        .and_then(|r| r.get("storage"))
        .and_then(|q| quantity::parse(&q.0))
        .unwrap_or(0.0)
}

/// The binding rules of the PV controller for static provisioning.
fn satisfies(pv: &PersistentVolume, pvc: &PersistentVolumeClaim, claim_object: &Value) -> bool {
    let (Some(pv_spec), Some(pvc_spec)) = (pv.spec.as_ref(), pvc.spec.as_ref()) else {
        return false;
    };
    let pv_name = pv.metadata.name.as_deref().unwrap_or_default();
    if phase_of_volume(pv) != "Available" {
        return false;
    }
    if let Some(wanted) = pvc_spec.volume_name.as_deref().filter(|n| !n.is_empty())
        && wanted != pv_name
    {
        return false;
    }
    if let Some(claim_ref) = &pv_spec.claim_ref {
        let for_this_claim = claim_ref.namespace.as_deref() == Some(meta::namespace(claim_object))
            && claim_ref.name.as_deref() == Some(meta::name(claim_object))
            && claim_ref
                .uid
                .as_deref()
                .is_none_or(|uid| uid.is_empty() || uid == meta::uid(claim_object));
        if !for_this_claim {
            return false;
        }
    }
    let class = |c: &Option<String>| c.clone().unwrap_or_default();
    let mode = |m: &Option<String>| m.clone().unwrap_or_else(|| "Filesystem".into());
    let pv_modes = pv_spec.access_modes.clone().unwrap_or_default();
    class(&pv_spec.storage_class_name) == class(&pvc_spec.storage_class_name)
        && mode(&pv_spec.volume_mode) == mode(&pvc_spec.volume_mode)
        && pvc_spec.access_modes.iter().flatten().all(|m| pv_modes.contains(m))
        && storage(pv) >= requested(pvc)
}

fn bind(
    store: &mut Store,
    volume_object: &Value,
    pv: &PersistentVolume,
    claim_object: &Value,
    pvc: &PersistentVolumeClaim,
) {
    let claim_ref = json!({
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "namespace": meta::namespace(claim_object),
        "name": meta::name(claim_object),
        "uid": meta::uid(claim_object),
        "resourceVersion": claim_object["metadata"]["resourceVersion"],
    });
    let volume_name = meta::name(volume_object).to_string();
    tracing::info!(
        claim = format!("{}/{}", meta::namespace(claim_object), meta::name(claim_object)),
        volume = volume_name,
        "claim bound"
    );
    store.update(
        &ObjectKey::of(Kind::PersistentVolume, volume_object),
        meta::uid(volume_object),
        |pv| {
            pv["spec"]["claimRef"] = claim_ref;
            pv["status"]["phase"] = json!("Bound");
        },
    );
    let chosen_by_controller = pvc
        .spec
        .as_ref()
        .and_then(|s| s.volume_name.as_deref())
        .unwrap_or_default()
        .is_empty();
    let access_modes = json!(pv.spec.as_ref().and_then(|s| s.access_modes.clone()));
    let capacity = json!(pv.spec.as_ref().and_then(|s| s.capacity.clone()));
    store.update(
        &ObjectKey::of(Kind::PersistentVolumeClaim, claim_object),
        meta::uid(claim_object),
        |pvc| {
            pvc["spec"]["volumeName"] = json!(volume_name);
            if !pvc["metadata"]["annotations"].is_object() {
                pvc["metadata"]["annotations"] = json!({});
            }
            pvc["metadata"]["annotations"]["pv.kubernetes.io/bind-completed"] = json!("yes");
            if chosen_by_controller {
                pvc["metadata"]["annotations"]["pv.kubernetes.io/bound-by-controller"] = json!("yes");
            }
            pvc["status"] = json!({"phase": "Bound", "accessModes": access_modes, "capacity": capacity});
        },
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store() -> Store {
        let mut store = Store::default();
        store
            .create(
                Kind::Namespace,
                "",
                json!({"metadata": {"name": "ns"}}),
                Timestamp::now(),
            )
            .unwrap();
        store
    }

    fn pv(name: &str, class: &str, size: &str, modes: &[&str]) -> Value {
        json!({"metadata": {"name": name}, "spec": {
            "capacity": {"storage": size}, "accessModes": modes, "storageClassName": class,
            "csi": {"driver": "efs.csi.aws.com", "volumeHandle": "fs-1"}
        }})
    }

    fn pvc(name: &str, class: &str, size: &str, modes: &[&str]) -> Value {
        json!({"metadata": {"name": name}, "spec": {
            "accessModes": modes, "storageClassName": class, "resources": {"requests": {"storage": size}}
        }})
    }

    fn add(store: &mut Store, kind: Kind, object: Value) {
        store.create(kind, "ns", object, Timestamp::now()).unwrap();
        reconcile(store);
    }

    fn phase(store: &Store, kind: Kind, name: &str) -> String {
        store.get(&ObjectKey::new(kind, "ns", name)).unwrap()["status"]["phase"]
            .as_str()
            .unwrap()
            .to_string()
    }

    #[test]
    fn binds_the_smallest_matching_volume() {
        let mut store = store();
        add(
            &mut store,
            Kind::PersistentVolume,
            pv("big", "efs-sc", "10Gi", &["ReadWriteMany"]),
        );
        add(
            &mut store,
            Kind::PersistentVolume,
            pv("small", "efs-sc", "5Gi", &["ReadWriteMany", "ReadWriteOnce"]),
        );
        add(
            &mut store,
            Kind::PersistentVolume,
            pv("tiny", "efs-sc", "1Gi", &["ReadWriteMany"]),
        );
        add(
            &mut store,
            Kind::PersistentVolumeClaim,
            pvc("claim", "efs-sc", "2Gi", &["ReadWriteMany"]),
        );
        let claim = store
            .get(&ObjectKey::new(Kind::PersistentVolumeClaim, "ns", "claim"))
            .unwrap();
        assert_eq!(claim["spec"]["volumeName"], "small");
        assert_eq!(claim["status"]["phase"], "Bound");
        let small = store.get(&ObjectKey::new(Kind::PersistentVolume, "", "small")).unwrap();
        assert_eq!(small["spec"]["claimRef"]["name"], "claim");
        assert_eq!(phase(&store, Kind::PersistentVolume, "big"), "Available");
    }

    #[test]
    fn class_access_mode_and_size_must_match() {
        let mut store = store();
        add(
            &mut store,
            Kind::PersistentVolume,
            pv("pv", "efs-sc", "5Gi", &["ReadWriteOnce"]),
        );
        add(
            &mut store,
            Kind::PersistentVolumeClaim,
            pvc("other-class", "gp2", "1Gi", &["ReadWriteOnce"]),
        );
        add(
            &mut store,
            Kind::PersistentVolumeClaim,
            pvc("rwx", "efs-sc", "1Gi", &["ReadWriteMany"]),
        );
        add(
            &mut store,
            Kind::PersistentVolumeClaim,
            pvc("too-big", "efs-sc", "6Gi", &["ReadWriteOnce"]),
        );
        for claim in ["other-class", "rwx", "too-big"] {
            assert_eq!(phase(&store, Kind::PersistentVolumeClaim, claim), "Pending", "{claim}");
        }
    }

    #[test]
    fn deleting_the_claim_releases_the_volume_for_good() {
        let mut store = store();
        add(
            &mut store,
            Kind::PersistentVolume,
            pv("pv", "efs-sc", "5Gi", &["ReadWriteMany"]),
        );
        add(
            &mut store,
            Kind::PersistentVolumeClaim,
            pvc("claim", "efs-sc", "5Gi", &["ReadWriteMany"]),
        );
        store
            .delete(&ObjectKey::new(Kind::PersistentVolumeClaim, "ns", "claim"))
            .unwrap();
        reconcile(&mut store);
        assert_eq!(phase(&store, Kind::PersistentVolume, "pv"), "Released");
        add(
            &mut store,
            Kind::PersistentVolumeClaim,
            pvc("claim", "efs-sc", "5Gi", &["ReadWriteMany"]),
        );
        assert_eq!(phase(&store, Kind::PersistentVolumeClaim, "claim"), "Pending");
    }

    #[test]
    fn deleting_the_volume_loses_the_claim() {
        let mut store = store();
        add(
            &mut store,
            Kind::PersistentVolume,
            pv("pv", "efs-sc", "5Gi", &["ReadWriteMany"]),
        );
        add(
            &mut store,
            Kind::PersistentVolumeClaim,
            pvc("claim", "efs-sc", "5Gi", &["ReadWriteMany"]),
        );
        store.delete(&ObjectKey::new(Kind::PersistentVolume, "", "pv")).unwrap();
        reconcile(&mut store);
        assert_eq!(phase(&store, Kind::PersistentVolumeClaim, "claim"), "Lost");
    }
}
