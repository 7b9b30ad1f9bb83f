//! The doctor's access checks, on clusters whose access configuration the gateway emulates (moto's
//! EKS ignores `accessConfig`): a `CONFIG_MAP` cluster is reported by name and `prepare` creates no
//! access entry on it; once switched to `API_AND_CONFIG_MAP` it passes.

use aws_sdk_eks::types::{AuthenticationMode, UpdateAccessConfigRequest};
use efs_fargate_core::clients::AwsClients;
use efs_fargate_core::settings::{AccessEntryMode, Settings};
use efs_fargate_core::steps::doctor::{self, CheckStatus, DoctorEvent, DoctorReport, names};
use efs_fargate_core::steps::prepare::prepare;
use serde_json::json;
use workflow_tests::{CLUSTER, OrPanic, SeededAccess, error_name, inventory, prepare_event, seed_network_with};

use crate::access_support::{ROLE, gateway};

async fn doctor(clients: &AwsClients, settings: &Settings) -> DoctorReport {
    let event: DoctorEvent =
        serde_json::from_value(json!({"action": "doctor", "input": {"clusterName": CLUSTER}})).expect("an event");
    doctor::handle(clients, settings, event).await.expect("a report").output
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_config_map_cluster_is_reported_by_name_and_gets_no_access_entry() {
    let moto = workflow_tests::moto().await;
    let gw = gateway(&moto);
    let clients = AwsClients {
        eks: gw.eks.clone(),
        ..moto.clients()
    };
    seed_network_with(&clients, CLUSTER, SeededAccess::ConfigMapOnly).await;
    let settings = Settings {
        access_entry_mode: AccessEntryMode::Manage,
        cluster_access_role_arn: Some(ROLE.into()),
        ..workflow_tests::settings()
    };

    let report = doctor(&clients, &settings).await;
    let failed: Vec<_> = report.failed().map(|c| (c.name.as_str(), c.error.as_deref())).collect();
    assert_eq!(failed, [(names::AUTHENTICATION_MODE, Some("ClusterAccessNotGranted"))]);
    let check = report.check(names::AUTHENTICATION_MODE).unwrap();
    assert!(check.explanation.contains("API_AND_CONFIG_MAP"), "the fix: {check:?}");
    assert_eq!(report.check(names::ACCESS_ENTRY).unwrap().status, CheckStatus::Skipped);

    let before = inventory(&moto.clients(), CLUSTER).await;
    let (name, _) = error_name(prepare(&clients, &settings, prepare_event(json!({"clusterName": CLUSTER}))).await);
    assert_eq!(name, "ClusterAccessNotGranted");
    assert_eq!(gw.store.resolve(CLUSTER, ROLE), None, "no access entry");
    assert_eq!(inventory(&moto.clients(), CLUSTER).await, before);

    gw.eks
        .update_cluster_config()
        .name(CLUSTER)
        .access_config(
            UpdateAccessConfigRequest::builder()
                .authentication_mode(AuthenticationMode::ApiAndConfigMap)
                .build(),
        )
        .send()
        .await
        .or_panic("eks update_cluster_config");
    let report = doctor(&clients, &settings).await;
    assert!(report.healthy, "{report:#?}");
    let entry = report.check(names::ACCESS_ENTRY).unwrap();
    assert_eq!(entry.status, CheckStatus::Ok);
    assert!(entry.explanation.contains("creates the workflow's own"), "{entry:?}");
}
