//! The deployment's CloudWatch dashboard as the template defines it: its `DashboardBody` is a
//! `!Sub` string, resolved here the way CloudFormation does, so a test can check what the
//! dashboard shows and hand it to moto.

use std::collections::BTreeMap;

use super::{Template, TemplateError, shape};

impl Template {
    /// The `DashboardBody` of the `AWS::CloudWatch::Dashboard` `logical_id`, each `${Name}` (a
    /// parameter's default, else `refs`: resources, `Name.Attribute`, `AWS::Region`) substituted
    /// and `${!...}` unescaped; a name neither knows is an error, not a guess.
    pub fn dashboard_body(&self, logical_id: &str, refs: &BTreeMap<String, String>) -> Result<String, TemplateError> {
        let at = format!("Resources.{logical_id}.Properties.DashboardBody");
        let body = &self.resource(logical_id, "AWS::CloudWatch::Dashboard")?["Properties"]["DashboardBody"];
        let serde_norway::Value::Tagged(tagged) = body else {
            return Err(shape(at, "is not a !Sub"));
        };
        let text = match (tagged.tag == "Sub", tagged.value.as_str()) {
            (true, Some(text)) => text,
            _ => return Err(shape(at, "is not a !Sub of one string")),
        };
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let end = rest[start..]
                .find('}')
                .ok_or_else(|| shape(&at, "has an unclosed ${"))?;
            let name = &rest[start + 2..start + end];
            if let Some(literal) = name.strip_prefix('!') {
                out.push_str("${");
                out.push_str(literal);
                out.push('}');
            } else {
                let value = self
                    .resolve(name, refs)
                    .ok_or_else(|| shape(&at, format!("${{{name}}}: not a parameter or a name the stack knows")))?;
                out.push_str(&value);
            }
            rest = &rest[start + end + 1..];
        }
        out.push_str(rest);
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use efs_fargate_core::resources::collector::config::{METRIC_NAMESPACE, METRICS};
    use serde_json::Value;

    fn refs() -> BTreeMap<String, String> {
        [
            ("AWS::Region", "us-east-1"),
            ("AWS::StackName", "efs-workflow"),
            ("ProvisionStateMachine", "arn:provision"),
            ("CleanupStateMachine", "arn:cleanup"),
            ("ProvisionFailedAlarm.Arn", "arn:alarm:provision-failed"),
            ("CleanupFailedAlarm.Arn", "arn:alarm:cleanup-failed"),
            ("CleanupAbandonedAlarm.Arn", "arn:alarm:cleanup-abandoned"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
    }

    fn body() -> Value {
        let text = Template::load_repo()
            .unwrap()
            .dashboard_body("Dashboard", &refs())
            .unwrap();
        serde_json::from_str(&text).expect("the dashboard body is JSON")
    }

    #[test]
    fn the_dashboard_shows_both_state_machines_executions_and_every_file_systems_metrics() {
        let body = body();
        let widgets = body["widgets"].as_array().unwrap();
        let metrics: Vec<String> = widgets
            .iter()
            .flat_map(|w| w["properties"]["metrics"].as_array().cloned().unwrap_or_default())
            .map(|m| m.to_string())
            .collect();
        for machine in ["arn:provision", "arn:cleanup"] {
            for metric in [
                "ExecutionsStarted",
                "ExecutionsSucceeded",
                "ExecutionsFailed",
                "ExecutionsTimedOut",
                "ExecutionTime",
            ] {
                assert!(
                    metrics.iter().any(|m| m.contains(metric) && m.contains(machine)),
                    "{metric} of {machine}: {metrics:?}"
                );
            }
        }
        for efs_metric in ["MeteredIOBytes", "PercentIOLimit", "StorageBytes", "ClientConnections"] {
            assert!(
                metrics
                    .iter()
                    .any(|m| m.contains("SEARCH('{AWS/EFS,FileSystemId") && m.contains(efs_metric)),
                "{efs_metric}: {metrics:?}"
            );
        }
        // The Container Insights widgets name metrics the collector sends.
        for insights_metric in ["pod_cpu_usage_total", "pod_memory_working_set"] {
            assert!(
                METRICS.contains(&insights_metric),
                "{insights_metric} is not sent: {METRICS:?}"
            );
            assert!(
                metrics.iter().any(|m| m.contains(&format!(
                    "SEARCH('{{{METRIC_NAMESPACE},ClusterName,Namespace,LaunchType}} MetricName=\\\"{insights_metric}\\\"'"
                ))),
                "{insights_metric}: {metrics:?}"
            );
        }
        let alarms = widgets.iter().find(|w| w["type"] == "alarm").expect("an alarm widget");
        assert_eq!(alarms["properties"]["alarms"].as_array().unwrap().len(), 3);
        for widget in widgets.iter().filter(|w| w["type"] == "metric") {
            assert_eq!(widget["properties"]["region"], "us-east-1", "{widget}");
        }
    }

    #[test]
    fn an_unknown_name_is_an_error() {
        let mut partial = refs();
        partial.remove("CleanupStateMachine");
        let error = Template::load_repo()
            .unwrap()
            .dashboard_body("Dashboard", &partial)
            .unwrap_err()
            .to_string();
        assert!(error.contains("${CleanupStateMachine}"), "{error}");
    }

    #[tokio::test]
    async fn moto_stores_the_dashboard_as_cloudwatch_would() {
        let moto = workflow_tests::moto().await;
        let cloudwatch = moto.clients().cloudwatch;
        let text = Template::load_repo()
            .unwrap()
            .dashboard_body("Dashboard", &refs())
            .unwrap();
        cloudwatch
            .put_dashboard()
            .dashboard_name("efs-workflow-efs-fargate-workflow")
            .dashboard_body(&text)
            .send()
            .await
            .expect("put_dashboard");
        let stored = cloudwatch
            .get_dashboard()
            .dashboard_name("efs-workflow-efs-fargate-workflow")
            .send()
            .await
            .expect("get_dashboard");
        assert_eq!(
            serde_json::from_str::<Value>(stored.dashboard_body().unwrap()).unwrap(),
            body()
        );
    }
}
