//! One pod's life: Fargate admission (decided once, when the pod is created, like the EKS
//! webhook), scheduling (claims must be bound; the Fargate scheduler does not retry), the start
//! delay, mounts, then its containers running the tiny shell until they exit or the pod is deleted.

use std::sync::Arc;

use serde_json::{Value, json};
use tokio::task::JoinSet;

use crate::cluster::efs::{self, EfsFacts};
use crate::cluster::events::{self, EventSpec};
use crate::cluster::{Cluster, fargate, mounts, pod_status};
use crate::kind::Kind;
use crate::logs::LogSink;
use crate::shell::exec::{ContainerFs, Shell};
use crate::shell::{ContainerCommand, Unsupported, parse_container_command};
use crate::store::{ObjectKey, Store, meta};

pub async fn run(cluster: Arc<Cluster>, key: ObjectKey, uid: String) {
    let pod = Pod { cluster, key, uid };
    let Some(scheduler) = pod.admit().await else { return };
    if let Some(problem) = pod
        .with_current(|store, object| unbound_claim(store, object, scheduler))
        .flatten()
    {
        pod.unschedulable(scheduler, &problem);
        return;
    }
    let ip = pod.cluster.allocate_ip();
    let node = node_name(&ip, &pod.cluster.settings.region);
    pod.update(|object, now| pod_status::scheduled(object, now, &node, &ip));
    let assigned = format!("Successfully assigned {}/{} to {node}", pod.key.namespace, pod.key.name);
    pod.event(EventSpec::normal("Scheduled", &assigned, scheduler));

    pod.cluster.clock.sleep(pod.cluster.settings.pod_start_delay).await;
    let efs = pod.efs_facts().await;
    let Some(containers) = pod.prepare_containers(&efs) else {
        return;
    };
    let logs: Vec<LogSink> = containers
        .iter()
        .map(|container| pod.cluster.logs.start(&pod.uid, &container.name))
        .collect();
    pod.update(|object, now| pod_status::running(object, now, &ip));
    let mut running = JoinSet::new();
    for (index, (container, log)) in containers.into_iter().zip(logs).enumerate() {
        let message = format!("Started container {}", container.name);
        pod.event(EventSpec::normal("Started", &message, "kubelet"));
        let clock = pod.cluster.clock;
        running.spawn(async move {
            let shell = Shell {
                clock: &clock,
                fs: &container.fs,
                log: &log,
            };
            (index, run_container(&shell, &log, container.command).await)
        });
    }
    while let Some(Ok((index, exit_code))) = running.join_next().await {
        pod.update(|object, now| pod_status::container_exited(object, now, index, exit_code));
    }
}

/// A container ready to start.
struct Container {
    name: String,
    fs: ContainerFs,
    command: Result<ContainerCommand, Unsupported>,
}

async fn run_container(shell: &Shell<'_>, log: &LogSink, command: Result<ContainerCommand, Unsupported>) -> i32 {
    match command {
        Ok(ContainerCommand::Script(script)) => shell.run(&script).await,
        Ok(ContainerCommand::ImageDefault) => std::future::pending().await,
        Err(unsupported) => {
            log.write(&format!(
                "fake-kube-apiserver: can't run this container command: {unsupported}\n"
            ));
            2
        }
    }
}

/// `fargate-ip-10-0-10-5.ec2.internal` (us-east-1) or `...<region>.compute.internal`.
fn node_name(ip: &str, region: &str) -> String {
    let domain = if region == "us-east-1" {
        "ec2.internal".to_string()
    } else {
        format!("{region}.compute.internal")
    };
    format!("fargate-ip-{}.{domain}", ip.replace('.', "-"))
}

/// Why the scheduler can't place the pod because of its claims, if it can't.
fn unbound_claim(store: &Store, pod: &Value, scheduler: &str) -> Option<String> {
    let namespace = meta::namespace(pod);
    for volume in pod["spec"]["volumes"].as_array().into_iter().flatten() {
        let Some(claim) = volume["persistentVolumeClaim"]["claimName"].as_str() else {
            continue;
        };
        let volume_name = volume["name"].as_str().unwrap_or_default();
        let problem = match store.get(&ObjectKey::new(Kind::PersistentVolumeClaim, namespace, claim)) {
            None => "not found",
            Some(pvc) if pvc["status"]["phase"] != "Bound" => "not bound",
            Some(_) => continue,
        };
        return Some(if scheduler == FARGATE_SCHEDULER {
            format!(
                "Pod not supported on Fargate: volumes not supported: {volume_name} not supported because: PVC {claim} {problem}"
            )
        } else if problem == "not found" {
            format!("persistentvolumeclaim \"{claim}\" not found")
        } else {
            "0/1 nodes are available: pod has unbound immediate PersistentVolumeClaims.".to_string()
        });
    }
    None
}

const FARGATE_SCHEDULER: &str = "fargate-scheduler";
const DEFAULT_SCHEDULER: &str = "default-scheduler";

/// The simulated pod, identified by key and uid (a recreated pod is another one).
struct Pod {
    cluster: Arc<Cluster>,
    key: ObjectKey,
    uid: String,
}

impl Pod {
    /// The scheduler that takes the pod, or `None` when no Fargate profile selects it.
    async fn admit(&self) -> Option<&'static str> {
        let Some(eks) = &self.cluster.settings.eks else {
            return Some(DEFAULT_SCHEDULER);
        };
        let labels = self.with_current(|_, object| meta::labels(object))?;
        let cluster_name = &self.cluster.settings.cluster_name;
        let profiles = match fargate::profiles(eks, cluster_name).await {
            Ok(profiles) => profiles,
            Err(error) => {
                tracing::warn!(%error, "can't list the Fargate profiles");
                let message = format!("can't list the Fargate profiles of cluster {cluster_name:?}: {error}");
                self.unschedulable(DEFAULT_SCHEDULER, &message);
                return None;
            }
        };
        let Some(profile) = fargate::select(&profiles, &self.key.namespace, &labels) else {
            let labels: Vec<String> = labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
            let message = format!(
                "Pod not supported on Fargate: no ACTIVE Fargate profile of cluster {cluster_name:?} matches \
                 namespace {:?} and labels {{{}}}; like EKS, the fake looks only when the pod is created: recreate \
                 the pod once a profile matches",
                self.key.namespace,
                labels.join(",")
            );
            self.unschedulable(DEFAULT_SCHEDULER, &message);
            return None;
        };
        let profile_name = profile.name.clone();
        self.update(|object, _| {
            object["spec"]["schedulerName"] = json!(FARGATE_SCHEDULER);
            if !object["metadata"]["labels"].is_object() {
                object["metadata"]["labels"] = json!({});
            }
            object["metadata"]["labels"]["eks.amazonaws.com/fargate-profile"] = json!(profile_name);
        });
        Some(FARGATE_SCHEDULER)
    }

    /// What EFS says about the pod's volumes (nothing without an EFS client).
    async fn efs_facts(&self) -> EfsFacts {
        let Some(efs) = &self.cluster.settings.efs else {
            return EfsFacts::default();
        };
        let handles = self.with_current(mounts::efs_handles).unwrap_or_default();
        efs::facts(efs, &handles).await
    }

    /// Mounts and commands of every container, or `None` after a mount failure event.
    fn prepare_containers(&self, efs: &EfsFacts) -> Option<Vec<Container>> {
        let prepared = self.with_current(|store, pod| {
            let empty_dirs = mounts::empty_dirs(pod);
            let mut containers = Vec::new();
            for container in pod["spec"]["containers"].as_array().into_iter().flatten() {
                let mounts =
                    mounts::container_mounts(store, &self.cluster.file_systems, pod, container, &empty_dirs, efs)?;
                let strings = |field: &str| -> Vec<String> {
                    container[field]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(|s| s.as_str().map(str::to_string))
                        .collect()
                };
                containers.push(Container {
                    name: container["name"].as_str().unwrap_or_default().to_string(),
                    fs: ContainerFs::new(mounts),
                    command: parse_container_command(&strings("command"), &strings("args")),
                });
            }
            Ok::<_, mounts::MountFailure>(containers)
        })?;
        match prepared {
            Ok(containers) => Some(containers),
            Err(failure) => {
                self.event(EventSpec::warning(failure.reason, &failure.message, "kubelet"));
                None
            }
        }
    }

    fn unschedulable(&self, scheduler: &str, message: &str) {
        self.update(|object, now| pod_status::unschedulable(object, now, message));
        self.event(EventSpec::warning("FailedScheduling", message, scheduler));
    }

    /// Runs `read` on the pod while it still exists (same uid).
    fn with_current<R>(&self, read: impl FnOnce(&Store, &Value) -> R) -> Option<R> {
        let store = self.cluster.store();
        let object = store.get(&self.key).filter(|o| meta::uid(o) == self.uid)?;
        Some(read(&store, object))
    }

    fn update(&self, change: impl FnOnce(&mut Value, jiff::Timestamp)) {
        let now = self.cluster.clock.now();
        self.cluster
            .store()
            .update(&self.key, &self.uid, |object| change(object, now));
    }

    fn event(&self, event: EventSpec<'_>) {
        let now = self.cluster.clock.now();
        let mut store = self.cluster.store();
        let Some(object) = store.get(&self.key).filter(|o| meta::uid(o) == self.uid).cloned() else {
            return;
        };
        events::record(&mut store, now, &object, event);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_names_follow_the_region() {
        assert_eq!(node_name("10.0.10.5", "us-east-1"), "fargate-ip-10-0-10-5.ec2.internal");
        assert_eq!(
            node_name("10.0.10.5", "eu-west-1"),
            "fargate-ip-10-0-10-5.eu-west-1.compute.internal"
        );
    }
}
