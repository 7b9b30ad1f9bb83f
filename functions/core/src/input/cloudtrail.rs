//! The EventBridge "AWS API Call via CloudTrail" event for EKS `CreateCluster`.
//!
//! The cluster name is `requestParameters.name` in current events and `clusterName` in older
//! samples. A cluster is provisioned only when its create request carried the opt-in tag with the
//! value `true`; anything else ends as a successful no-op with the reason.

use super::{DEFAULT_NAMESPACE, Encryption, OnFailure, ProvisionRequest, Trigger, console};
use crate::error::{Result, WorkflowError};
use crate::ownership::OPT_IN_TAG_KEY;
use crate::rules;
use crate::settings::Settings;
use serde_json::Value;

/// Optional tags on the create request that choose the namespace and TTL of the run.
pub const NAMESPACE_TAG_KEY: &str = "efs-fargate-workflow/namespace";
pub const TTL_TAG_KEY: &str = "efs-fargate-workflow/ttl";

pub(super) fn is_cloudtrail_event(input: &Value) -> bool {
    input.get("detail-type").and_then(Value::as_str) == Some("AWS API Call via CloudTrail")
}

pub(super) fn parse(event: &Value, settings: &Settings) -> Result<Trigger> {
    let detail = event
        .get("detail")
        .filter(|d| d.is_object())
        .ok_or_else(|| WorkflowError::invalid("detail", "is required in a CloudTrail event"))?;
    let event_name = detail.get("eventName").and_then(Value::as_str).unwrap_or_default();
    if event.get("source").and_then(Value::as_str) != Some("aws.eks") || event_name != "CreateCluster" {
        return Ok(Trigger::Skip {
            reason: format!(
                "the event is `{event_name}` from {}, not EKS CreateCluster",
                event["source"].as_str().unwrap_or("an unknown source")
            ),
        });
    }
    if let Some(code) = detail.get("errorCode").and_then(Value::as_str) {
        return Ok(Trigger::Skip {
            reason: format!("the CreateCluster call failed with {code}; there is no cluster to provision"),
        });
    }
    let request = detail.get("requestParameters").cloned().unwrap_or(Value::Null);
    let response_cluster = detail
        .pointer("/responseElements/cluster")
        .cloned()
        .unwrap_or(Value::Null);
    let cluster_name = [
        &request["name"],
        &request["clusterName"],
        &response_cluster["name"],
        &response_cluster["clusterName"],
    ]
    .into_iter()
    .find_map(Value::as_str)
    .ok_or_else(|| WorkflowError::invalid("detail.requestParameters.name", "is required in a CreateCluster event"))?
    .to_string();
    rules::cluster_name("detail.requestParameters.name", &cluster_name)?;

    let tag = |key: &str| request.get("tags").and_then(|t| t.get(key)).and_then(Value::as_str);
    if tag(OPT_IN_TAG_KEY) != Some("true") {
        return Ok(Trigger::Skip {
            reason: format!(
                "cluster `{cluster_name}` was created without the opt-in tag `{}=true`",
                OPT_IN_TAG_KEY
            ),
        });
    }
    let namespace = tag(NAMESPACE_TAG_KEY).unwrap_or(DEFAULT_NAMESPACE).to_string();
    rules::namespace(&format!("tags.{NAMESPACE_TAG_KEY}"), &namespace)?;
    let ttl = tag(TTL_TAG_KEY)
        .map(str::to_string)
        .or_else(|| settings.default_ttl.clone());
    if let Some(ttl) = &ttl {
        rules::ttl_seconds(&format!("tags.{TTL_TAG_KEY}"), ttl)?;
    }
    Ok(Trigger::Provision(Box::new(ProvisionRequest {
        cluster_name,
        namespace,
        pod_execution_role_arn: console::pod_execution_role(None, settings)?,
        encryption: Encryption::default(),
        file_system: Default::default(),
        posix_user: Default::default(),
        monitoring: Default::default(),
        ttl,
        deploy_poc_app: true,
        on_failure: OnFailure::Rollback,
        adopt: vec![],
    })))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn settings() -> Settings {
        Settings {
            pod_execution_role_arn: Some("arn:aws:iam::123456789012:role/pods".into()),
            default_ttl: Some("PT8H".into()),
            ..Settings::default()
        }
    }

    fn event(request: Value) -> Value {
        json!({
            "detail-type": "AWS API Call via CloudTrail",
            "source": "aws.eks",
            "detail": {"eventSource": "eks.amazonaws.com", "eventName": "CreateCluster", "requestParameters": request}
        })
    }

    #[test]
    fn opted_in_cluster_is_provisioned_with_tag_overrides() {
        let input = event(json!({"name": "demo", "tags": {
            "efs-fargate-workflow/provision": "true", "efs-fargate-workflow/namespace": "team-a"}}));
        let Trigger::Provision(request) = parse(&input, &settings()).unwrap() else {
            panic!("skipped")
        };
        assert_eq!(request.cluster_name, "demo");
        assert_eq!(request.namespace, "team-a");
        assert_eq!(request.ttl.as_deref(), Some("PT8H"));
    }

    #[test]
    fn older_field_name_is_understood() {
        let input = event(json!({"clusterName": "legacy", "tags": {"efs-fargate-workflow/provision": "true"}}));
        assert!(matches!(parse(&input, &settings()).unwrap(), Trigger::Provision(r) if r.cluster_name == "legacy"));
    }

    #[test]
    fn missing_opt_in_is_a_no_op_with_reason() {
        let Trigger::Skip { reason } = parse(&event(json!({"name": "demo"})), &settings()).unwrap() else {
            panic!("provisioned")
        };
        assert!(reason.contains("efs-fargate-workflow/provision=true"), "{reason}");
    }

    #[test]
    fn failed_api_calls_and_other_events_are_skipped() {
        let mut failed = event(json!({"name": "demo"}));
        failed["detail"]["errorCode"] = json!("ResourceInUseException");
        assert!(matches!(parse(&failed, &settings()).unwrap(), Trigger::Skip { .. }));
        let mut other = event(json!({"name": "demo"}));
        other["detail"]["eventName"] = json!("DeleteCluster");
        assert!(matches!(parse(&other, &settings()).unwrap(), Trigger::Skip { .. }));
    }

    #[test]
    fn event_without_cluster_name_is_invalid() {
        let err = parse(&event(json!({"tags": {}})), &settings()).unwrap_err();
        assert_eq!(err.error_type(), "InvalidInput");
    }
}
