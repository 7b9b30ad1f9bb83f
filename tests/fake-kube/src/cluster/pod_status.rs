//! The pod status at each step of its life, as the scheduler and the kubelet write it.

use jiff::Timestamp;
use serde_json::{Value, json};

fn condition(kind: &str, status: bool, now: Timestamp) -> Value {
    json!({
        "type": kind,
        "status": if status { "True" } else { "False" },
        "lastProbeTime": null,
        "lastTransitionTime": now.to_string(),
    })
}

fn container_names(pod: &Value) -> Vec<(String, String)> {
    pod["spec"]["containers"]
        .as_array()
        .map(|containers| {
            containers
                .iter()
                .map(|c| {
                    let name = c["name"].as_str().unwrap_or_default().to_string();
                    let image = c["image"].as_str().unwrap_or_default().to_string();
                    (name, image)
                })
                .collect()
        })
        .unwrap_or_default()
}

fn container_status(name: &str, image: &str, state: Value, ready: bool) -> Value {
    json!({
        "name": name,
        "image": image,
        "imageID": "",
        "ready": ready,
        "restartCount": 0,
        "started": state.get("running").is_some(),
        "state": state,
    })
}

/// No node for the pod: `PodScheduled=False`, reason `Unschedulable`.
pub fn unschedulable(pod: &mut Value, now: Timestamp, message: &str) {
    let mut scheduled = condition("PodScheduled", false, now);
    scheduled["reason"] = json!("Unschedulable");
    scheduled["message"] = json!(message);
    pod["status"]["phase"] = json!("Pending");
    pod["status"]["conditions"] = json!([scheduled]);
}

/// Bound to its node; containers are being created.
pub fn scheduled(pod: &mut Value, now: Timestamp, node: &str, ip: &str) {
    pod["spec"]["nodeName"] = json!(node);
    let mut not_ready = condition("ContainersReady", false, now);
    not_ready["reason"] = json!("ContainersNotReady");
    let mut ready = condition("Ready", false, now);
    ready["reason"] = json!("ContainersNotReady");
    let waiting = json!({"waiting": {"reason": "ContainerCreating"}});
    let statuses: Vec<Value> = container_names(pod)
        .iter()
        .map(|(name, image)| container_status(name, image, waiting.clone(), false))
        .collect();
    let status = &mut pod["status"];
    status["phase"] = json!("Pending");
    status["hostIP"] = json!(ip);
    status["hostIPs"] = json!([{"ip": ip}]);
    status["startTime"] = json!(now.to_string());
    status["conditions"] = json!([
        condition("PodReadyToStartContainers", false, now),
        condition("Initialized", true, now),
        ready,
        not_ready,
        condition("PodScheduled", true, now),
    ]);
    status["containerStatuses"] = json!(statuses);
}

/// Every container started.
pub fn running(pod: &mut Value, now: Timestamp, ip: &str) {
    let running = json!({"running": {"startedAt": now.to_string()}});
    let statuses: Vec<Value> = container_names(pod)
        .iter()
        .map(|(name, image)| container_status(name, image, running.clone(), true))
        .collect();
    let status = &mut pod["status"];
    status["phase"] = json!("Running");
    status["podIP"] = json!(ip);
    status["podIPs"] = json!([{"ip": ip}]);
    status["conditions"] = json!([
        condition("PodReadyToStartContainers", true, now),
        condition("Initialized", true, now),
        condition("Ready", true, now),
        condition("ContainersReady", true, now),
        condition("PodScheduled", true, now),
    ]);
    status["containerStatuses"] = json!(statuses);
}

/// Container `index` exited; once all have, the pod is `Succeeded` (all 0) or `Failed`.
pub fn container_exited(pod: &mut Value, now: Timestamp, index: usize, exit_code: i32) {
    let statuses = &mut pod["status"]["containerStatuses"];
    let started_at = statuses[index]["state"]["running"]["startedAt"].clone();
    statuses[index]["state"] = json!({"terminated": {
        "exitCode": exit_code,
        "reason": if exit_code == 0 { "Completed" } else { "Error" },
        "startedAt": started_at,
        "finishedAt": now.to_string(),
    }});
    statuses[index]["ready"] = json!(false);
    statuses[index]["started"] = json!(false);
    let exit_codes: Vec<Option<i64>> = statuses
        .as_array()
        .map(|all| {
            all.iter()
                .map(|s| s["state"]["terminated"]["exitCode"].as_i64())
                .collect()
        })
        .unwrap_or_default();
    let finished = exit_codes.iter().all(Option::is_some);
    let reason = if finished { "PodCompleted" } else { "ContainersNotReady" };
    let conditions = pod["status"]["conditions"].as_array_mut().into_iter().flatten();
    for condition in conditions.filter(|c| c["type"] == "Ready" || c["type"] == "ContainersReady") {
        condition["status"] = json!("False");
        condition["reason"] = json!(reason);
        condition["lastTransitionTime"] = json!(now.to_string());
    }
    if finished {
        let failed = exit_codes.iter().flatten().any(|code| *code != 0);
        pod["status"]["phase"] = json!(if failed { "Failed" } else { "Succeeded" });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod() -> Value {
        json!({"metadata": {"name": "p"}, "spec": {"containers": [
            {"name": "a", "image": "busybox"}, {"name": "b", "image": "busybox"}
        ]}, "status": {"phase": "Pending"}})
    }

    #[test]
    fn walks_through_the_phases() {
        let now = Timestamp::now();
        let mut pod = pod();
        scheduled(&mut pod, now, "fargate-ip-10-0-10-5.ec2.internal", "10.0.10.5");
        assert_eq!(
            pod["status"]["containerStatuses"][1]["state"]["waiting"]["reason"],
            "ContainerCreating"
        );
        running(&mut pod, now, "10.0.10.5");
        assert_eq!(pod["status"]["phase"], "Running");
        assert_eq!(pod["status"]["containerStatuses"][0]["ready"], true);
        container_exited(&mut pod, now, 0, 0);
        assert_eq!(pod["status"]["phase"], "Running");
        container_exited(&mut pod, now, 1, 1);
        assert_eq!(pod["status"]["phase"], "Failed");
        assert_eq!(
            pod["status"]["containerStatuses"][1]["state"]["terminated"]["reason"],
            "Error"
        );
    }

    #[test]
    fn unschedulable_pods_say_why() {
        let mut pod = pod();
        unschedulable(&mut pod, Timestamp::now(), "no profile");
        assert_eq!(pod["status"]["conditions"][0]["reason"], "Unschedulable");
        assert_eq!(pod["status"]["conditions"][0]["status"], "False");
    }
}
