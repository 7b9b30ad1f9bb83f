//! Least privilege in the cluster, end to end: the first run on a cluster bootstraps the
//! workflow's RBAC with a cluster-admin grant it revokes before creating anything in AWS; its
//! access entry keeps only the workflow's group; with its own token the workflow may not read a
//! Secret, exec into a pod or bind any role but the Container Insights reader; a second namespace
//! needs no grant, and the cluster's collector, in its own namespace on its own Fargate profile, gets
//! its binding to that reader (no tenant namespace holds a service account with it); the last
//! cleanup removes the collector, the RBAC and the entry.

use crate::support::*;
use efs_fargate_core::input::DEFAULT_NAMESPACE;
use efs_fargate_core::resources::collector as insights;
use efs_fargate_core::resources::rbac;
use k8s_openapi::api::authorization::v1::SubjectAccessReview;
use k8s_openapi::api::core::v1::{Pod, Secret};
use k8s_openapi::api::rbac::v1::ClusterRoleBinding;
use kube::api::{Api, PostParams};
use local_stack::stack::{CLUSTER, CLUSTER_ACCESS_ROLE, StackOptions};
use serde_json::json;

/// The HTTP status of a refused Kubernetes request.
fn refused<T: std::fmt::Debug>(result: Result<T, kube::Error>) -> u16 {
    match result {
        Err(kube::Error::Api(status)) => status.code,
        other => panic!("expected the API server to refuse: {other:?}"),
    }
}

#[tokio::test]
async fn the_workflow_keeps_only_its_own_rbac_and_the_last_cleanup_removes_it() {
    let stack = stack(StackOptions::default()).await;
    let first = stack
        .provision(
            "least-privilege-1",
            json!({"clusterName": CLUSTER, "deployPocApp": false}),
        )
        .await;
    succeeded(&first);
    let states = stack.entered_states(&first.execution_arn).await;
    let position = |state: &str| states.iter().position(|s| s == state);
    assert_eq!(stack.entries(&first.execution_arn, "GrantBootstrapAccess").await, 1);
    assert_eq!(stack.entries(&first.execution_arn, "RevokeBootstrapAccess").await, 1);
    assert!(
        position("RevokeBootstrapAccess") < position("ProvisionInParallel"),
        "revoked before any AWS resource: {states:?}"
    );

    let access = stack
        .stack
        .access_entries
        .resolve(CLUSTER, CLUSTER_ACCESS_ROLE)
        .expect("the workflow's access entry");
    assert!(
        access.policies.is_empty(),
        "no standing access policy: {:?}",
        access.policies
    );
    assert_eq!(access.kubernetes_groups, vec![rbac::GROUP.to_string()]);

    let kube = &stack.stack.kube;
    for namespace in [DEFAULT_NAMESPACE, "aws-observability"] {
        let binding = kube
            .object("RoleBinding", Some(namespace), rbac::NAME)
            .unwrap_or_else(|| panic!("the workflow's rights in {namespace}"));
        assert_eq!(binding["roleRef"]["name"], rbac::NAMESPACE_ROLE);
    }

    // With the workflow's own token.
    let workflow = stack.kube_client_as(workflow_tests::ACCESS_KEY_ID, workflow_tests::SECRET_ACCESS_KEY);
    let secrets: Api<Secret> = Api::namespaced(workflow.clone(), DEFAULT_NAMESPACE);
    assert_eq!(refused(secrets.get_opt("anything").await), 403, "no Secrets");
    let pods: Api<Pod> = Api::namespaced(workflow.clone(), DEFAULT_NAMESPACE);
    assert!(pods.list(&Default::default()).await.is_ok(), "but its pods, yes");
    let exec = http::Request::post(format!(
        "/api/v1/namespaces/{DEFAULT_NAMESPACE}/pods/poc-app1/exec?command=cat&stdout=true"
    ))
    .body(Vec::new())
    .expect("a request");
    assert_eq!(refused(workflow.request_text(exec).await), 403, "no exec");
    let binding: ClusterRoleBinding = serde_json::from_value(json!({
        "metadata": {"name": "escalate"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cluster-admin"},
        "subjects": [{"kind": "Group", "name": rbac::GROUP, "apiGroup": "rbac.authorization.k8s.io"}]
    }))
    .expect("a binding");
    let bindings: Api<ClusterRoleBinding> = Api::all(workflow);
    assert_eq!(
        refused(bindings.create(&PostParams::default(), &binding).await),
        403,
        "no binding to any role but the collector's reader"
    );

    // A second namespace finds the RBAC in place, and the cluster's Container Insights collector is
    // bound to the reader role the bootstrap installed, by the workflow's own rights.
    let second = stack
        .provision(
            "least-privilege-2",
            json!({"clusterName": CLUSTER, "namespace": "team-b", "deployPocApp": false,
                   "monitoring": {"containerInsights": true}}),
        )
        .await;
    succeeded(&second);
    assert_eq!(stack.entries(&second.execution_arn, "GrantBootstrapAccess").await, 0);
    let reader = kube
        .object("ClusterRole", None, rbac::COLLECTOR_READER)
        .expect("the reader role");
    assert_eq!(reader["rules"][1]["resources"], json!(["nodes/proxy", "nodes/metrics"]));
    let binding = kube
        .object("ClusterRoleBinding", None, insights::COLLECTOR)
        .expect("the collector's binding");
    assert_eq!(binding["roleRef"]["name"], rbac::COLLECTOR_READER);
    assert_eq!(
        binding["subjects"],
        json!([{"kind": "ServiceAccount", "name": insights::SERVICE_ACCOUNT, "namespace": insights::NAMESPACE}])
    );
    let deployment = kube
        .object("Deployment", Some(insights::NAMESPACE), insights::COLLECTOR)
        .expect("the collector");
    assert_eq!(deployment["spec"]["replicas"], 1);
    assert!(
        kube.object("ServiceAccount", Some("team-b"), insights::SERVICE_ACCOUNT)
            .is_none(),
        "no service account with node rights in the tenant's namespace"
    );
    let output = &second.output["storageClass"]["containerInsights"];
    assert_eq!(output["metricNamespace"], "ContainerInsights");
    assert_eq!(output["namespaces"], json!(["team-b"]));
    let config = kube
        .object("ConfigMap", Some(insights::NAMESPACE), insights::COLLECTOR)
        .expect("its configuration");
    assert!(
        config["data"][insights::config::CONFIG_FILE]
            .as_str()
            .is_some_and(|c| c.contains("\"regex\": \"team-b\"")),
        "it reports team-b: {config}"
    );
    let account = kube
        .object("ServiceAccount", Some(insights::NAMESPACE), insights::SERVICE_ACCOUNT)
        .expect("its service account");
    assert_eq!(
        account["metadata"]["annotations"][insights::objects::ROLE_ANNOTATION],
        output["roleArn"]
    );
    assert_eq!(
        deployment["spec"]["template"]["spec"]["serviceAccountName"],
        insights::SERVICE_ACCOUNT
    );
    // No service account of the tenant's namespace may read the nodes through their proxy, whatever
    // its name (a tenant with `edit` may create one named like the collector's); the collector's own
    // account, in the collector's namespace, may. Asked as the API server's SubjectAccessReview.
    let admin = stack.kube_client();
    let may_proxy_nodes = |namespace: &str, account: &str| {
        let review: SubjectAccessReview = serde_json::from_value(json!({"spec": {
            "user": format!("system:serviceaccount:{namespace}:{account}"),
            "groups": ["system:serviceaccounts", format!("system:serviceaccounts:{namespace}")],
            "resourceAttributes": {"verb": "get", "resource": "nodes", "subresource": "proxy", "name": "fargate-ip-10-0-1-1"},
        }}))
        .expect("a review");
        let reviews: Api<SubjectAccessReview> = Api::all(admin.clone());
        async move {
            let answer = reviews
                .create(&PostParams::default(), &review)
                .await
                .expect("the review");
            answer.status.expect("its status").allowed
        }
    };
    for account in ["default", insights::SERVICE_ACCOUNT, "metrics-reader"] {
        assert!(!may_proxy_nodes("team-b", account).await, "team-b/{account}");
    }
    assert!(may_proxy_nodes(insights::NAMESPACE, insights::SERVICE_ACCOUNT).await);

    let ours = stack.ours_left().await;
    assert_eq!(ours.iter().filter(|r| r.starts_with("IAM role")).count(), 1, "{ours:?}");
    assert!(
        ours.iter().any(|r| r.contains(insights::profile::PROFILE)),
        "the collector's own Fargate profile: {ours:?}"
    );

    // The RBAC stays while a namespace of ours is left, and goes with the last one.
    let rbac_objects = || {
        [
            stack.stack.kube.object("ClusterRole", None, rbac::NAME).is_some(),
            stack
                .stack
                .kube
                .object("ClusterRole", None, rbac::COLLECTOR_READER)
                .is_some(),
            stack
                .stack
                .kube
                .object("ClusterRoleBinding", None, rbac::NAME)
                .is_some(),
        ]
    };
    stack.cleanup("least-privilege-c1", DEFAULT_NAMESPACE).await;
    assert_eq!(rbac_objects(), [true, true, true], "team-b still uses it");
    assert!(
        kube.object("Deployment", Some(insights::NAMESPACE), insights::COLLECTOR)
            .is_some(),
        "the collector stays while team-b is left"
    );
    stack.cleanup("least-privilege-c2", "team-b").await;
    assert!(kube.object("Namespace", None, insights::NAMESPACE).is_none());
    assert!(kube.object("ClusterRoleBinding", None, insights::COLLECTOR).is_none());
    assert_eq!(
        rbac_objects(),
        [false, false, false],
        "the roles, and the binding with them"
    );
    assert_eq!(stack.ours_left().await, Vec::<String>::new());
    stack.shutdown().await;
}
