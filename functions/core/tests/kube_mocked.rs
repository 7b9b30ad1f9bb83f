//! The Kubernetes client against a scripted API server (`tower-test`): what the workflow sends,
//! and how it reads what comes back.

use aws_smithy_mocks::{RuleMode, mock, mock_client};
use efs_fargate_core::input::{Encryption, OnFailure, ProvisionRequest};
use efs_fargate_core::k8s::Kube;
use efs_fargate_core::ledger::{Ledger, Record, RecordState};
use efs_fargate_core::ownership::{MANAGED_BY_KEY, MANAGED_BY_VALUE, NAMESPACE_KEY};
use efs_fargate_core::resources::namespace;
use efs_fargate_core::resources::rbac::{self, RbacState};
use efs_fargate_core::resources::workload::EfsVolume;
use efs_fargate_core::resources::workload::manifests::{self, APP};
use efs_fargate_core::resources::{Kind, Recorder};
use efs_fargate_core::run::{AccessGrant, AccessStatus, Network, Run, Subnet};
use efs_fargate_core::settings::Settings;
use http::{Request, Response};
use kube::client::Body;
use serde_json::{Value, json};
use tower_test::mock::{self, Handle};

const NAMESPACE: &str = "poc-efs-eks-fargate";

fn run() -> Run {
    let subnet = Subnet {
        availability_zone: "us-east-1a".into(),
        subnet_id: "subnet-a".into(),
        cidr_block: "10.0.10.0/24".into(),
    };
    Run {
        run_id: "run-1".into(),
        generation: 1,
        deployment: "local".into(),
        request: ProvisionRequest {
            cluster_name: "demo".into(),
            namespace: NAMESPACE.into(),
            pod_execution_role_arn: "arn:aws:iam::123456789012:role/pods".into(),
            encryption: Encryption {
                in_transit: false,
                ..Encryption::default()
            },
            file_system: Default::default(),
            posix_user: Default::default(),
            monitoring: Default::default(),
            ttl: None,
            deploy_poc_app: true,
            on_failure: OnFailure::Rollback,
            adopt: vec![],
        },
        expires_at: Some("2030-01-01T00:00:00Z".into()),
        network: Network {
            vpc_id: "vpc-1".into(),
            private_subnets: vec![subnet.clone()],
            mount_target_subnets: vec![subnet],
            cluster_security_group_id: None,
        },
        access: AccessGrant {
            principal_arn: "arn:aws:iam::123456789012:role/efs-workflow".into(),
            status: AccessStatus::Skipped,
        },
    }
}

/// A ledger that records nothing yet and accepts every write.
fn ledger() -> Ledger {
    let confirmed = Record {
        kind: Kind::Namespace,
        key: NAMESPACE.into(),
        cluster: Some("demo".into()),
        namespace: Some(NAMESPACE.into()),
        resource_id: Some("uid-1".into()),
        run: "run-1".into(),
        generation: 1,
        state: RecordState::Created,
        recorded_at: "2026-01-01T00:00:00Z".into(),
        attributes: Default::default(),
        users: Default::default(),
    };
    let dynamodb = mock_client!(
        aws_sdk_dynamodb,
        RuleMode::MatchAny,
        &[
            mock!(aws_sdk_dynamodb::Client::get_item)
                .then_output(|| aws_sdk_dynamodb::operation::get_item::GetItemOutput::builder().build()),
            mock!(aws_sdk_dynamodb::Client::put_item)
                .then_output(|| aws_sdk_dynamodb::operation::put_item::PutItemOutput::builder().build()),
            mock!(aws_sdk_dynamodb::Client::update_item).then_output(move || {
                aws_sdk_dynamodb::operation::update_item::UpdateItemOutput::builder()
                    .set_attributes(Some(confirmed.to_item()))
                    .build()
            }),
        ]
    );
    let settings = Settings {
        ledger_table_name: Some("ledger".into()),
        ..Settings::default()
    };
    Ledger::of(&dynamodb, &settings).unwrap()
}

/// [`namespace::ensure_namespace`] of [`run`], recorded in [`ledger`].
async fn ensure_namespace(kube: &Kube) -> efs_fargate_core::Result<namespace::NamespaceOutput> {
    let (run, ledger) = (run(), ledger());
    let (owner, creator) = (run.owner(), run.creator());
    let recorder = Recorder {
        ledger: &ledger,
        owner: &owner,
        creator: &creator,
    };
    namespace::ensure_namespace(kube, recorder, &run, RbacState::Current).await
}

type ApiHandle = Handle<Request<Body>, Response<Body>>;

fn scripted() -> (Kube, ApiHandle) {
    let (service, handle) = mock::pair::<Request<Body>, Response<Body>>();
    let kube = Kube {
        client: kube::Client::new(service, "default"),
        cluster: "demo".into(),
    };
    (kube, handle)
}

fn respond(status: u16, body: Value) -> Response<Body> {
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(Body::from(serde_json::to_vec(&body).unwrap()))
        .unwrap()
}

fn failure(code: u16, reason: &str, message: &str) -> Value {
    json!({"kind": "Status", "apiVersion": "v1", "status": "Failure", "code": code, "reason": reason, "message": message})
}

async fn body_json(request: Request<Body>) -> Value {
    let bytes = request.into_body().collect_bytes().await.unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

#[tokio::test]
async fn a_401_is_cluster_auth_failed_naming_access_entries() {
    let (kube, mut api) = scripted();
    let server = tokio::spawn(async move {
        let (request, reply) = api.next_request().await.unwrap();
        assert_eq!(request.uri().path(), format!("/api/v1/namespaces/{NAMESPACE}"));
        reply.send_response(respond(401, failure(401, "Unauthorized", "Unauthorized")));
    });
    let err = ensure_namespace(&kube).await.unwrap_err();
    server.await.unwrap();
    assert_eq!(err.error_type(), "ClusterAuthFailed");
    assert!(!err.is_retryable());
    let message = err.to_string();
    assert!(
        message.contains("access entry") && message.contains("demo"),
        "{message}"
    );
}

#[tokio::test]
async fn a_503_is_retryable_and_a_422_keeps_the_api_reason() {
    let (kube, mut api) = scripted();
    let server = tokio::spawn(async move {
        for (code, reason) in [(503, "ServiceUnavailable"), (422, "Invalid")] {
            let (_, reply) = api.next_request().await.unwrap();
            reply.send_response(respond(code, failure(code, reason, "spec.csi: field is immutable")));
        }
    });
    let unavailable = ensure_namespace(&kube).await.unwrap_err();
    assert_eq!(unavailable.error_type(), "KubernetesUnavailable");
    assert!(unavailable.is_retryable());
    let invalid = ensure_namespace(&kube).await.unwrap_err();
    server.await.unwrap();
    assert_eq!(invalid.error_type(), "KubernetesApiError");
    assert!(!invalid.is_retryable());
    assert!(invalid.to_string().contains("422 Invalid"), "{invalid}");
}

#[tokio::test]
async fn a_missing_namespace_is_created_with_our_labels() {
    let (kube, mut api) = scripted();
    let server = tokio::spawn(async move {
        let (_, reply) = api.next_request().await.unwrap();
        reply.send_response(respond(404, failure(404, "NotFound", "namespaces not found")));
        let (request, reply) = api.next_request().await.unwrap();
        assert_eq!(request.method(), "POST");
        assert_eq!(request.uri().path(), "/api/v1/namespaces");
        assert!(
            request
                .uri()
                .query()
                .unwrap()
                .contains("fieldManager=efs-fargate-workflow")
        );
        let body = body_json(request).await;
        assert_eq!(body["metadata"]["labels"][MANAGED_BY_KEY], MANAGED_BY_VALUE);
        assert_eq!(body["metadata"]["labels"][NAMESPACE_KEY], NAMESPACE);
        let mut created = body.clone();
        created["metadata"]["uid"] = json!("uid-1");
        reply.send_response(respond(201, created.clone()));
        // Read back for its uid, which the ledger records.
        let (request, reply) = api.next_request().await.unwrap();
        assert_eq!(request.method(), "GET");
        reply.send_response(respond(200, created));
        // Then the workflow's rights in it: a RoleBinding of its group to the namespace role.
        let bindings = format!("/apis/rbac.authorization.k8s.io/v1/namespaces/{NAMESPACE}/rolebindings");
        let (request, reply) = api.next_request().await.unwrap();
        assert_eq!(request.method(), "GET");
        reply.send_response(respond(404, failure(404, "NotFound", "rolebindings not found")));
        let (request, reply) = api.next_request().await.unwrap();
        assert_eq!(
            (request.method().as_str(), request.uri().path()),
            ("POST", bindings.as_str())
        );
        let mut binding = body_json(request).await;
        assert_eq!(binding["roleRef"]["name"], rbac::NAMESPACE_ROLE);
        assert_eq!(binding["subjects"][0]["name"], rbac::GROUP);
        binding["metadata"]["uid"] = json!("uid-2");
        reply.send_response(respond(201, binding.clone()));
        let (_, reply) = api.next_request().await.unwrap();
        reply.send_response(respond(200, binding));
    });
    let output = ensure_namespace(&kube).await.unwrap();
    server.await.unwrap();
    assert!(output.created);
    assert_eq!(output.name, NAMESPACE);
}

#[tokio::test]
async fn a_volume_is_server_side_applied_with_the_plain_access_point_handle() {
    let (kube, mut api) = scripted();
    let run = run();
    let volume = manifests::persistent_volume(
        &run,
        APP,
        EfsVolume {
            file_system_id: "fs-12345678",
            access_point_id: "fsap-12345678",
        },
    );
    let server = tokio::spawn(async move {
        let (request, reply) = api.next_request().await.unwrap();
        assert_eq!(request.method(), "PATCH");
        assert_eq!(
            request.uri().path(),
            format!("/api/v1/persistentvolumes/poc-app-pv-{NAMESPACE}")
        );
        let query = request.uri().query().unwrap().to_string();
        assert!(
            query.contains("fieldManager=efs-fargate-workflow") && query.contains("force=true"),
            "{query}"
        );
        assert_eq!(request.headers()["content-type"], "application/apply-patch+yaml");
        let body = body_json(request).await;
        assert_eq!(body["kind"], "PersistentVolume");
        assert_eq!(body["spec"]["csi"]["volumeHandle"], "fs-12345678::fsap-12345678");
        assert_eq!(body["spec"]["csi"]["volumeAttributes"]["encryptInTransit"], "false");
        assert_eq!(body["spec"]["persistentVolumeReclaimPolicy"], "Retain");
        assert_eq!(
            body["spec"]["claimRef"],
            json!({"namespace": NAMESPACE, "name": "poc-app-pvc"})
        );
        reply.send_response(respond(200, body));
    });
    let applied = kube.apply(&kube.all(), &volume).await.unwrap();
    server.await.unwrap();
    assert_eq!(applied, volume);
}
