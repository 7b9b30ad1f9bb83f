//! Validating admission policies through a real `kube::Client`: a bound policy's CEL validations
//! decide writes of the users its match conditions select, on the object as it would be stored
//! (a patch merged into what exists), with `namespaceObject`, `oldObject` and `variables`; an
//! expression that fails denies unless the policy ignores failures; admin requests, unbound
//! policies and audit-only bindings deny nothing.

use k8s_openapi::api::admissionregistration::v1::{ValidatingAdmissionPolicy, ValidatingAdmissionPolicyBinding};
use k8s_openapi::api::core::v1::{ConfigMap, Namespace};
use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding};
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams};
use serde_json::{Value, json};

use crate::common::{access_entry_config, admin_and_group_member, client_for, start, status_of};

const ADMIN: &str = "arn:aws:iam::111122223333:user/admin";
const TENANT: &str = "arn:aws:iam::111122223333:role/Tenant";
const GROUP: &str = "confined";

fn object<K: serde::de::DeserializeOwned>(value: Value) -> K {
    serde_json::from_value(value).unwrap()
}

/// The policy under test: the group writes config maps only in namespaces labelled
/// `team=ok`, never with `data.mode = unsafe`, and deletes only labelled namespaces.
fn policy(name: &str, failure_policy: &str, extra: Option<&str>) -> ValidatingAdmissionPolicy {
    let mut validations = vec![
        json!({"expression": "namespaceObject == null || variables.teamNamespace",
               "message": "only in team namespaces", "reason": "Forbidden"}),
        json!({"expression": "object == null || !has(object.data) || !('mode' in object.data) || object.data.mode != 'unsafe'",
               "message": "no unsafe mode"}),
        json!({"expression": "request.resource.resource != 'namespaces' || request.operation != 'DELETE' || (has(oldObject.metadata.labels) && 'team' in oldObject.metadata.labels)",
               "message": "only team namespaces are deleted", "reason": "Forbidden"}),
        // As in kube-apiserver: a namespace's own request carries its name, and no namespace object.
        json!({"expression": "request.resource.resource != 'namespaces' || (request.namespace == request.name && namespaceObject == null)",
               "message": "namespace requests are seen as the API server shows them"}),
    ];
    if let Some(expression) = extra {
        validations.push(json!({"expression": expression, "reason": "Forbidden"}));
    }
    object(json!({
        "metadata": {"name": name},
        "spec": {
            "failurePolicy": failure_policy,
            "matchConstraints": {"resourceRules": [{"apiGroups": ["*"], "apiVersions": ["*"],
                "operations": ["CREATE", "UPDATE", "DELETE"], "resources": ["*"]}]},
            "matchConditions": [{"name": "confined", "expression": format!("'{GROUP}' in request.userInfo.groups")}],
            "variables": [{"name": "teamNamespace",
                "expression": "namespaceObject != null && has(namespaceObject.metadata.labels) && 'team' in namespaceObject.metadata.labels && namespaceObject.metadata.labels['team'] == 'ok'"}],
            "validations": validations,
        }
    }))
}

fn binding(name: &str, policy: &str, actions: &[&str]) -> ValidatingAdmissionPolicyBinding {
    object(json!({"metadata": {"name": name}, "spec": {"policyName": policy, "validationActions": actions}}))
}

/// An admin, a tenant in [`GROUP`] that RBAC lets write config maps and namespaces anywhere,
/// the namespaces `team-a` (labelled) and `other`.
async fn fake() -> (fake_kube_apiserver::FakeKube, kube::Client, kube::Client) {
    let entries = admin_and_group_member(ADMIN, TENANT, "tenant", GROUP);
    let kube = start(access_entry_config(
        &[("admin-key", ADMIN), ("tenant-key", TENANT)],
        entries,
    ))
    .await;
    let admin = client_for(&kube, "admin-key");
    let role = json!({"metadata": {"name": "writer"}, "rules": [{"apiGroups": [""],
        "resources": ["configmaps", "namespaces"], "verbs": ["get", "create", "patch", "delete"]}]});
    Api::<ClusterRole>::all(admin.clone())
        .create(&PostParams::default(), &object(role))
        .await
        .unwrap();
    let grant = json!({"metadata": {"name": "writer"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "writer"},
        "subjects": [{"kind": "Group", "name": GROUP}]});
    Api::<ClusterRoleBinding>::all(admin.clone())
        .create(&PostParams::default(), &object(grant))
        .await
        .unwrap();
    let namespaces = Api::<Namespace>::all(admin.clone());
    for (name, labels) in [("team-a", json!({"team": "ok"})), ("other", json!({}))] {
        namespaces
            .create(
                &PostParams::default(),
                &object(json!({"metadata": {"name": name, "labels": labels}})),
            )
            .await
            .unwrap();
    }
    let tenant = client_for(&kube, "tenant-key");
    (kube, admin, tenant)
}

async fn install(admin: &kube::Client, policy: ValidatingAdmissionPolicy, binding: ValidatingAdmissionPolicyBinding) {
    Api::<ValidatingAdmissionPolicy>::all(admin.clone())
        .create(&PostParams::default(), &policy)
        .await
        .unwrap();
    Api::<ValidatingAdmissionPolicyBinding>::all(admin.clone())
        .create(&PostParams::default(), &binding)
        .await
        .unwrap();
}

fn config_map(name: &str, mode: &str) -> ConfigMap {
    object(json!({"metadata": {"name": name}, "data": {"mode": mode}}))
}

#[tokio::test]
async fn a_bound_policy_confines_its_group_and_no_one_else() {
    let (_kube, admin, tenant) = fake().await;
    install(
        &admin,
        policy("confine", "Fail", None),
        binding("confine", "confine", &["Deny"]),
    )
    .await;
    let create = PostParams::default();

    let in_team = Api::<ConfigMap>::namespaced(tenant.clone(), "team-a");
    in_team.create(&create, &config_map("settings", "safe")).await.unwrap();
    let refused = status_of(
        Api::<ConfigMap>::namespaced(tenant.clone(), "other")
            .create(&create, &config_map("settings", "safe"))
            .await,
    );
    assert_eq!(refused.code, 403, "{refused:?}");
    assert_eq!(
        refused.message,
        "configmaps \"settings\" is forbidden: ValidatingAdmissionPolicy 'confine' with binding 'confine' \
         denied request: only in team namespaces"
    );
    // Without a reason, a denial is 422 Invalid (worded as forbidden), as in the API server.
    let unsafe_create = status_of(in_team.create(&create, &config_map("risky", "unsafe")).await);
    assert_eq!(unsafe_create.code, 422, "{unsafe_create:?}");
    assert!(unsafe_create.message.contains("no unsafe mode"), "{unsafe_create:?}");
    // An update is judged on the merged object.
    let patch = Patch::Merge(json!({"data": {"mode": "unsafe"}}));
    let patched = status_of(in_team.patch("settings", &PatchParams::default(), &patch).await);
    assert_eq!(patched.code, 422, "{patched:?}");
    assert_eq!(
        in_team.get("settings").await.unwrap().data.unwrap()["mode"],
        "safe",
        "refused before it was stored"
    );
    // Deletes see the old object.
    let namespaces = Api::<Namespace>::all(tenant.clone());
    let delete = status_of(namespaces.delete("other", &DeleteParams::default()).await);
    assert_eq!(delete.code, 403, "{delete:?}");
    namespaces.delete("team-a", &DeleteParams::default()).await.unwrap();

    // The admin is not in the group: nothing applies to it.
    Api::<ConfigMap>::namespaced(admin.clone(), "other")
        .create(&create, &config_map("settings", "unsafe"))
        .await
        .unwrap();
    // Nor to admission configuration itself, whoever writes it.
    Api::<ValidatingAdmissionPolicyBinding>::all(admin)
        .delete("confine", &DeleteParams::default())
        .await
        .unwrap();
    Api::<ConfigMap>::namespaced(tenant, "other")
        .create(&create, &config_map("after", "safe"))
        .await
        .unwrap();
}

#[tokio::test]
async fn an_expression_that_fails_denies_unless_failures_are_ignored_and_audit_denies_nothing() {
    let (_kube, admin, tenant) = fake().await;
    let failing = Some("object.spec.missing == 'x'");
    install(
        &admin,
        policy("strict", "Fail", failing),
        binding("strict", "strict", &["Deny"]),
    )
    .await;
    let create = PostParams::default();
    let in_team = Api::<ConfigMap>::namespaced(tenant.clone(), "team-a");
    let refused = status_of(in_team.create(&create, &config_map("one", "safe")).await);
    assert_eq!(refused.code, 403, "{refused:?}");
    assert!(refused.message.contains("resulted in error"), "{refused:?}");

    Api::<ValidatingAdmissionPolicy>::all(admin.clone())
        .patch(
            "strict",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"failurePolicy": "Ignore"}})),
        )
        .await
        .unwrap();
    in_team.create(&create, &config_map("one", "safe")).await.unwrap();

    // A policy bound only to audit, and one not bound at all, deny nothing.
    install(
        &admin,
        policy("audited", "Fail", Some("false")),
        binding("audited", "audited", &["Audit"]),
    )
    .await;
    Api::<ValidatingAdmissionPolicy>::all(admin)
        .create(&PostParams::default(), &policy("unbound", "Fail", Some("false")))
        .await
        .unwrap();
    in_team.create(&create, &config_map("two", "safe")).await.unwrap();
}
