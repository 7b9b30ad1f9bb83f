//! The objects of the PoC app and of the validation, as the workflow applies them.

use super::EfsVolume;
use crate::k8s::{metadata, restricted};
use crate::resources::storage_objects::{CSI_DRIVER, STORAGE_CLASS};
use crate::run::Run;
use k8s_openapi::api::core::v1::{
    CSIPersistentVolumeSource, Container, ObjectReference, PersistentVolume, PersistentVolumeClaim,
    PersistentVolumeClaimSpec, PersistentVolumeClaimVolumeSource, PersistentVolumeSpec, Pod, PodSecurityContext,
    PodSpec, ResourceRequirements, Volume, VolumeMount, VolumeResourceRequirements,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use std::collections::BTreeMap;

/// Pinned, from a public mirror: Fargate pulls through NAT or VPC endpoints, and Docker Hub's
/// anonymous pull limits would make runs fail at random.
pub const IMAGE: &str = "public.ecr.aws/docker/library/busybox:1.36.1";
/// Where every pod mounts the file system.
pub const MOUNT_PATH: &str = "/data";
/// EFS ignores capacities, but Kubernetes requires one on both sides of the binding.
const CAPACITY: &str = "1Mi";

/// A PV and its claim, and the pods that mount it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VolumeNames {
    pub volume_prefix: &'static str,
    pub claim: &'static str,
}

/// The PoC app's volume and claim.
pub const APP: VolumeNames = VolumeNames {
    volume_prefix: "poc-app-pv",
    claim: "poc-app-pvc",
};
pub const VALIDATION: VolumeNames = VolumeNames {
    volume_prefix: "poc-app-validation-pv",
    claim: "poc-app-validation-pvc",
};
pub const APP_PODS: [&str; 2] = ["poc-app1", "poc-app2"];
pub const VALIDATION_POD: &str = "poc-app-validation";

impl VolumeNames {
    /// PVs are cluster-scoped: the namespace in the name keeps two namespaces' runs on one
    /// cluster apart. Runs in one namespace share the file system, so they share the PV.
    pub fn volume_name(&self, namespace: &str) -> String {
        format!("{}-{namespace}", self.volume_prefix)
    }
}

fn capacity() -> BTreeMap<String, Quantity> {
    BTreeMap::from([("storage".to_string(), Quantity(CAPACITY.into()))])
}

/// A static PV on the namespace's access point, reserved for its claim by `claimRef`. `Retain` keeps the
/// data when the claim goes, which is what the persistence check relies on.
pub fn persistent_volume(run: &Run, names: VolumeNames, volume: EfsVolume<'_>) -> PersistentVolume {
    let in_transit = if run.request.encryption.in_transit {
        "true"
    } else {
        "false"
    };
    PersistentVolume {
        metadata: metadata(run, &names.volume_name(&run.request.namespace), None),
        spec: Some(PersistentVolumeSpec {
            capacity: Some(capacity()),
            volume_mode: Some("Filesystem".into()),
            access_modes: Some(vec!["ReadWriteMany".into()]),
            persistent_volume_reclaim_policy: Some("Retain".into()),
            storage_class_name: Some(STORAGE_CLASS.into()),
            claim_ref: Some(ObjectReference {
                namespace: Some(run.request.namespace.clone()),
                name: Some(names.claim.into()),
                ..ObjectReference::default()
            }),
            csi: Some(CSIPersistentVolumeSource {
                driver: CSI_DRIVER.into(),
                // The plain `fs-...::fsap-...` form: Fargate's built-in EFS handler rejects `efs:`.
                volume_handle: volume.handle(),
                volume_attributes: Some(BTreeMap::from([(
                    "encryptInTransit".to_string(),
                    in_transit.to_string(),
                )])),
                ..CSIPersistentVolumeSource::default()
            }),
            ..PersistentVolumeSpec::default()
        }),
        ..PersistentVolume::default()
    }
}

/// The claim, pre-bound to its PV by `volumeName` (the PV names it back by `claimRef`).
pub fn claim(run: &Run, names: VolumeNames) -> PersistentVolumeClaim {
    PersistentVolumeClaim {
        metadata: metadata(run, names.claim, Some(&run.request.namespace)),
        spec: Some(PersistentVolumeClaimSpec {
            access_modes: Some(vec!["ReadWriteMany".into()]),
            storage_class_name: Some(STORAGE_CLASS.into()),
            volume_name: Some(names.volume_name(&run.request.namespace)),
            resources: Some(VolumeResourceRequirements {
                requests: Some(capacity()),
                ..VolumeResourceRequirements::default()
            }),
            ..PersistentVolumeClaimSpec::default()
        }),
        ..PersistentVolumeClaim::default()
    }
}

/// The shell loop of PoC app `n` (1 or 2): append a line to its own file, print the last line of
/// the other app's file (its log is how the cross-read is checked, without `exec`), sleep 5 s.
pub fn app_command(n: u8) -> Vec<String> {
    let other = 3 - n;
    vec![
        "/bin/sh".into(),
        "-c".into(),
        format!(
            "while true; do echo \"$(date -u) - PoC APP {n}\" >> /data/out{n}.txt; tail -n 1 /data/out{other}.txt 2>/dev/null; sleep 5; done"
        ),
    ]
}

/// Lists the file system and prints the last lines of both apps' files, then exits.
pub fn validation_command() -> Vec<String> {
    vec![
        "/bin/sh".into(),
        "-c".into(),
        "find /data; tail -n 3 /data/out1.txt; tail -n 3 /data/out2.txt".into(),
    ]
}

/// How long a deleted pod's shell gets after SIGTERM. The apps' shell loops ignore SIGTERM (PID 1
/// without a handler), so Kubernetes' default 30 s would be spent waiting for nothing: each line
/// is one small append, complete or not written, so killing the loop loses nothing.
pub const GRACE_PERIOD_SECONDS: i64 = 1;

/// A busybox pod mounting `claim` at `/data`.
pub fn pod(run: &Run, name: &str, claim: &str, command: Vec<String>, restart_policy: &str) -> Pod {
    let quantity = |q: &str| Quantity(q.into());
    Pod {
        metadata: metadata(run, name, Some(&run.request.namespace)),
        spec: Some(PodSpec {
            restart_policy: Some(restart_policy.into()),
            termination_grace_period_seconds: Some(GRACE_PERIOD_SECONDS),
            // They never call the Kubernetes API: no token to steal (the admission policy
            // insists).
            automount_service_account_token: Some(false),
            // The access point's user: EFS enforces it on every file operation anyway, and running
            // as it keeps the container's own view consistent. No `fsGroup`: Fargate does not
            // apply it to EFS volumes, and the access point's root directory already belongs to
            // this user.
            security_context: Some(PodSecurityContext {
                run_as_user: Some(i64::from(run.request.posix_user.uid)),
                run_as_group: Some(i64::from(run.request.posix_user.gid)),
                run_as_non_root: Some(true),
                ..PodSecurityContext::default()
            }),
            containers: vec![Container {
                name: name.into(),
                image: Some(IMAGE.into()),
                command: Some(command),
                resources: Some(ResourceRequirements {
                    requests: Some(BTreeMap::from([
                        ("cpu".to_string(), quantity("100m")),
                        ("memory".to_string(), quantity("64Mi")),
                    ])),
                    limits: Some(BTreeMap::from([("memory".to_string(), quantity("64Mi"))])),
                    ..ResourceRequirements::default()
                }),
                // The pod runs as the access point's owner of `/<namespace>`: writing needs no
                // capability, so drop them all.
                security_context: Some(restricted()),
                volume_mounts: Some(vec![VolumeMount {
                    name: "persistent-storage".into(),
                    mount_path: MOUNT_PATH.into(),
                    ..VolumeMount::default()
                }]),
                ..Container::default()
            }],
            volumes: Some(vec![Volume {
                name: "persistent-storage".into(),
                persistent_volume_claim: Some(PersistentVolumeClaimVolumeSource {
                    claim_name: claim.into(),
                    ..PersistentVolumeClaimVolumeSource::default()
                }),
                ..Volume::default()
            }]),
            ..PodSpec::default()
        }),
        ..Pod::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pods_run_as_the_access_point_user_and_volumes_mount_through_it() {
        let sample: serde_json::Value =
            serde_json::from_str(include_str!("../../../../../events/functions/poc-app-converge.json")).unwrap();
        let mut run: Run = serde_json::from_value(sample["run"].clone()).unwrap();
        run.request.posix_user = crate::input::PosixUser { uid: 2001, gid: 3001 };
        let volume = EfsVolume {
            file_system_id: "fs-12345678",
            access_point_id: "fsap-12345678",
        };
        let pv = persistent_volume(&run, APP, volume);
        assert_eq!(
            pv.spec.unwrap().csi.unwrap().volume_handle,
            "fs-12345678::fsap-12345678"
        );
        let spec = pod(&run, "p", "c", validation_command(), "Never").spec.unwrap();
        let pod_context = spec.security_context.unwrap();
        assert_eq!(
            (
                pod_context.run_as_user,
                pod_context.run_as_group,
                pod_context.run_as_non_root
            ),
            (Some(2001), Some(3001), Some(true))
        );
        let container = spec.containers[0].security_context.clone().unwrap();
        assert_eq!(container.allow_privilege_escalation, Some(false));
    }

    #[test]
    fn app_commands_are_the_exact_shell_loops() {
        assert_eq!(
            app_command(1),
            [
                "/bin/sh",
                "-c",
                "while true; do echo \"$(date -u) - PoC APP 1\" >> /data/out1.txt; tail -n 1 /data/out2.txt 2>/dev/null; sleep 5; done"
            ]
        );
        assert_eq!(
            app_command(2)[2],
            "while true; do echo \"$(date -u) - PoC APP 2\" >> /data/out2.txt; tail -n 1 /data/out1.txt 2>/dev/null; sleep 5; done"
        );
    }
}
