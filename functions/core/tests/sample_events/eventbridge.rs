//! The EventBridge and scheduled samples: CloudTrail `CreateCluster` events, and the reaper's
//! schedule.

use efs_fargate_core::input::{DEFAULT_NAMESPACE, OnFailure, Trigger, parse_execution_input};
use efs_fargate_core::ownership::OPT_IN_TAG_KEY;

use crate::samples::{SETTINGS_ROLE, load, provision, settings};

#[test]
fn eventbridge_opted_in_is_provisioned_with_defaults() {
    let request = provision("eventbridge/create-cluster-opted-in.json");
    assert_eq!(request.cluster_name, "demo");
    assert_eq!(request.namespace, DEFAULT_NAMESPACE);
    assert_eq!(request.pod_execution_role_arn, SETTINGS_ROLE);
    assert_eq!(request.ttl, None);
    assert!(request.deploy_poc_app);
    assert_eq!(request.on_failure, OnFailure::Rollback);
}

#[test]
fn eventbridge_not_opted_in_is_skipped_naming_the_tag() {
    let event = load("eventbridge/create-cluster-not-opted-in.json");
    match parse_execution_input(&event, &settings()) {
        Ok(Trigger::Skip { reason }) => {
            assert!(reason.contains(OPT_IN_TAG_KEY), "{reason}");
            assert!(reason.contains("demo"), "{reason}");
        }
        other => panic!("expected a skip, got {other:?}"),
    }
}

#[test]
fn eventbridge_legacy_field_names_the_cluster() {
    let event = load("eventbridge/create-cluster-legacy-field.json");
    let params = &event["detail"]["requestParameters"];
    assert!(params.get("name").is_none(), "the legacy sample has no `name`");
    let request = provision("eventbridge/create-cluster-legacy-field.json");
    assert_eq!(Some(request.cluster_name.as_str()), params["clusterName"].as_str());
}

#[test]
fn eventbridge_tags_choose_namespace_and_ttl() {
    let request = provision("eventbridge/create-cluster-with-namespace-and-ttl.json");
    assert_eq!(request.cluster_name, "demo");
    assert_eq!(request.namespace, "team-b");
    assert_eq!(request.ttl.as_deref(), Some("PT12H"));
}

#[test]
fn scheduled_reaper_event() {
    let event = load("scheduled/reaper.json");
    assert_eq!(event["detail-type"], "Scheduled Event");
    assert_eq!(event["source"], "aws.events");
    assert_eq!(event["detail"], serde_json::json!({}));
    // The reaper ignores its event; fed to the provisioning input by mistake it is refused.
    assert!(parse_execution_input(&event, &settings()).is_err());
}
