//! The collector's configuration (AWS Distro for OpenTelemetry). Fargate pods expose no kubelet to
//! other pods, so the collector scrapes each Fargate node's cAdvisor through the API server's node
//! proxy (node discovery with its service account's token), keeps only the pod-level series of the
//! namespaces provisioned with Container Insights, turns the counters into rates, and sends them to CloudWatch in the embedded metric
//! format under the `ContainerInsights` namespace, with Container Insights' metric and dimension
//! names. The document is JSON, which the collector reads as YAML.

use serde_json::{Value, json};

/// Where the ConfigMap is mounted in the collector, and the file the collector reads.
pub const CONFIG_DIR: &str = "/conf";
pub const CONFIG_FILE: &str = "collector.yaml";
/// The collector's health endpoint (the `health_check` extension), which the probes call.
pub const HEALTH_PORT: i32 = 13133;
/// The CloudWatch metric namespace Container Insights' console reads.
pub const METRIC_NAMESPACE: &str = "ContainerInsights";

/// Per pod: CPU in millicores, memory working set in bytes, network in bytes per second.
pub const METRICS: [&str; 4] = [
    "pod_cpu_usage_total",
    "pod_memory_working_set",
    "pod_network_rx_bytes",
    "pod_network_tx_bytes",
];
/// The cAdvisor counters behind [`METRICS`], in the same order.
const SOURCES: [&str; 4] = [
    "container_cpu_usage_seconds_total",
    "container_memory_working_set_bytes",
    "container_network_receive_bytes_total",
    "container_network_transmit_bytes_total",
];
/// The counters among [`METRICS`]: sent as rates.
const RATES: [&str; 3] = ["pod_cpu_usage_total", "pod_network_rx_bytes", "pod_network_tx_bytes"];

/// What the cluster's collector scrapes, and where it sends it.
pub struct Target<'a> {
    pub cluster: &'a str,
    /// The namespaces whose pods it reports (none: it reports nothing).
    pub namespaces: &'a [String],
    pub region: &'a str,
    pub log_group: &'a str,
}

pub fn config(target: &Target<'_>) -> Value {
    let service_account = "/var/run/secrets/kubernetes.io/serviceaccount";
    let static_label =
        |label: &str, value: &str| json!({"target_label": label, "replacement": value, "action": "replace"});
    let copy_label = |from: &str, to: &str| json!({"source_labels": [from], "target_label": to, "action": "replace"});
    let mut metric_relabels = vec![
        // Prometheus anchors regexes; namespace names are DNS labels, so each name is its own regex
        // (and no list keeps nothing: a pod's series always has a namespace).
        json!({"source_labels": ["namespace"], "regex": target.namespaces.join("|"), "action": "keep"}),
        json!({"source_labels": ["__name__"], "regex": SOURCES.join("|"), "action": "keep"}),
        // The pod's own cgroup (no container name): one series per pod, network included.
        json!({"source_labels": ["container"], "regex": "", "action": "keep"}),
        json!({"source_labels": ["pod"], "regex": ".+", "action": "keep"}),
    ];
    for (source, metric) in SOURCES.iter().zip(METRICS) {
        metric_relabels.push(json!({
            "source_labels": ["__name__"], "regex": source, "target_label": "__name__",
            "replacement": metric, "action": "replace",
        }));
    }
    metric_relabels.extend([
        copy_label("namespace", "Namespace"),
        copy_label("pod", "PodName"),
        static_label("ClusterName", target.cluster),
        static_label("LaunchType", "fargate"),
        json!({"regex": "id|image|name|interface|container|namespace|pod|instance|job", "action": "labeldrop"}),
    ]);
    json!({
        "extensions": {"health_check": {"endpoint": format!("0.0.0.0:{HEALTH_PORT}")}},
        "receivers": {"prometheus": {"config": {
            "global": {"scrape_interval": "1m", "scrape_timeout": "40s"},
            "scrape_configs": [{
                "job_name": "fargate-cadvisor",
                "scheme": "https",
                "tls_config": {"ca_file": format!("{service_account}/ca.crt")},
                "bearer_token_file": format!("{service_account}/token"),
                "kubernetes_sd_configs": [{"role": "node"}],
                "relabel_configs": [
                    {"target_label": "__address__", "replacement": "kubernetes.default.svc:443", "action": "replace"},
                    // `$$` is the collector's escape for a literal `$` (it expands `${…}` itself).
                    {"source_labels": ["__meta_kubernetes_node_name"], "regex": "(.+)",
                     "target_label": "__metrics_path__",
                     "replacement": "/api/v1/nodes/$${1}/proxy/metrics/cadvisor", "action": "replace"},
                ],
                "metric_relabel_configs": metric_relabels,
            }],
        }}},
        "processors": {
            "cumulativetodelta": {"include": {"metrics": RATES, "match_type": "strict"}},
            "deltatorate": {"metrics": RATES},
            "metricstransform/millicores": {"transforms": [{
                "include": "pod_cpu_usage_total", "action": "update",
                "operations": [{"action": "experimental_scale_value", "experimental_scale": 1000}],
            }]},
            "batch": {"timeout": "60s"},
        },
        "exporters": {"awsemf": {
            "namespace": METRIC_NAMESPACE,
            "region": target.region,
            "log_group_name": target.log_group,
            // One deployment group serves every cluster: the stream says which.
            "log_stream_name": format!("{}/container-insights", target.cluster),
            "dimension_rollup_option": "NoDimensionRollup",
            "metric_declarations": [{
                "dimensions": [
                    ["ClusterName", "Namespace", "PodName", "LaunchType"],
                    ["ClusterName", "Namespace", "LaunchType"],
                ],
                "metric_name_selectors": METRICS,
            }],
        }},
        "service": {
            "extensions": ["health_check"],
            "pipelines": {"metrics": {
                "receivers": ["prometheus"],
                "processors": ["cumulativetodelta", "deltatorate", "metricstransform/millicores", "batch"],
                "exporters": ["awsemf"],
            }},
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(namespaces: &[String]) -> Target<'_> {
        Target {
            cluster: "demo",
            namespaces,
            region: "eu-west-1",
            log_group: "/efs-fargate-workflow/container-insights",
        }
    }

    #[test]
    fn every_pipeline_component_is_defined_and_every_defined_one_is_used() {
        let config = config(&target(&["team-a".into()]));
        let service = &config["service"];
        let mut used = vec![];
        for (section, list) in [
            ("receivers", "receivers"),
            ("processors", "processors"),
            ("exporters", "exporters"),
        ] {
            let pipeline = service["pipelines"]["metrics"][list].as_array().unwrap();
            let defined = config[section].as_object().unwrap();
            let names: Vec<&str> = pipeline.iter().map(|n| n.as_str().unwrap()).collect();
            let mut keys: Vec<&str> = defined.keys().map(String::as_str).collect();
            let mut sorted = names.clone();
            sorted.sort();
            keys.sort();
            assert_eq!(sorted, keys, "{section}");
            used.extend(names);
        }
        assert_eq!(service["extensions"], json!(["health_check"]));
        assert!(config["extensions"]["health_check"].is_object());
        // Rates only after deltas, scaling after both.
        assert_eq!(
            service["pipelines"]["metrics"]["processors"],
            json!([
                "cumulativetodelta",
                "deltatorate",
                "metricstransform/millicores",
                "batch"
            ])
        );
    }

    #[test]
    fn only_the_listed_namespaces_pods_are_kept_and_sent_to_the_deployments_group() {
        let namespaces = ["team-a".to_string(), "team-b".into()];
        let config = config(&target(&namespaces));
        let scrape = &config["receivers"]["prometheus"]["config"]["scrape_configs"][0];
        let relabels = scrape["metric_relabel_configs"].as_array().unwrap();
        assert_eq!(
            relabels[0],
            json!({"source_labels": ["namespace"], "regex": "team-a|team-b", "action": "keep"})
        );
        let none = super::config(&target(&[]));
        assert_eq!(
            none["receivers"]["prometheus"]["config"]["scrape_configs"][0]["metric_relabel_configs"][0]["regex"],
            ""
        );
        assert_eq!(scrape["kubernetes_sd_configs"], json!([{"role": "node"}]));
        assert_eq!(
            scrape["relabel_configs"][1]["replacement"],
            "/api/v1/nodes/$${1}/proxy/metrics/cadvisor"
        );
        let emf = &config["exporters"]["awsemf"];
        assert_eq!(emf["namespace"], "ContainerInsights");
        assert_eq!(emf["log_group_name"], "/efs-fargate-workflow/container-insights");
        assert_eq!(emf["log_stream_name"], "demo/container-insights");
        // Every dimension the exporter declares is a label the relabelling sets.
        let text = serde_json::to_string(relabels).unwrap();
        for dimension in emf["metric_declarations"][0]["dimensions"][0].as_array().unwrap() {
            assert!(
                text.contains(&format!("\"{}\"", dimension.as_str().unwrap())),
                "{dimension}"
            );
        }
        // The only `$` is the escaped capture group: nothing the collector would expand.
        let whole = config.to_string();
        assert_eq!(whole.matches('$').count(), 2, "{whole}");
    }
}
