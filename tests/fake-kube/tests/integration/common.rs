//! What the integration tests share: starting a fake, minting EKS tokens, a `kube::Client` for it,
//! and polling until a condition holds.

use std::future::Future;
use std::time::{Duration, Instant, SystemTime};

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{SignableBody, SignableRequest, SignatureLocation, SigningSettings, sign};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use fake_kube_apiserver::{AccessPolicy, Config, FakeKube, ResolvedAccess, StaticAccessEntries};
use std::sync::Arc;

use k8s_openapi::api::core::v1::{Event, Pod};
use kube::api::{Api, ListParams, LogParams};
use secrecy::SecretString;

pub const CLUSTER: &str = "demo";
pub const REGION: &str = "us-east-1";
pub const ACCESS_KEY: &str = "testing";
pub const SECRET: &str = "testing";
/// 50 times faster than real time: `sleep 5` in a container takes 100 ms.
pub const TIME_SCALE: f64 = 0.02;

/// A fake for cluster `demo` that knows the `testing`/`testing` credentials.
pub fn config() -> Config {
    Config {
        credentials: vec![(ACCESS_KEY.into(), SECRET.into())],
        pod_start_delay: Duration::from_secs(5),
        time_scale: TIME_SCALE,
        ..Config::new(CLUSTER, REGION)
    }
}

/// The secret of every access key in [`access_entry_config`].
pub const CALLER_SECRET: &str = "secret";

/// A fake that authorizes like EKS: each `(access key, caller ARN)` signs with [`CALLER_SECRET`]
/// and is looked up in `entries`.
pub fn access_entry_config(callers: &[(&str, &str)], entries: StaticAccessEntries) -> Config {
    Config {
        credentials: callers
            .iter()
            .map(|(key, _)| (key.to_string(), CALLER_SECRET.to_string()))
            .collect(),
        caller_arns: callers
            .iter()
            .map(|(key, arn)| (key.to_string(), arn.to_string()))
            .collect(),
        access_entries: Some(Arc::new(entries)),
        ..config()
    }
}

/// A client signing its tokens with `access_key` and [`CALLER_SECRET`].
pub fn client_for(kube: &FakeKube, access_key: &str) -> kube::Client {
    let url = presigned_url(CLUSTER, access_key, CALLER_SECRET, SystemTime::now());
    client_with_token(kube, &encode_token(&url))
}

/// The `Status` of a failed call.
pub fn status_of<T: std::fmt::Debug>(result: Result<T, kube::Error>) -> kube::core::Status {
    match result {
        Err(kube::Error::Api(status)) => *status,
        other => panic!("expected a Status, got {other:?}"),
    }
}

pub async fn start(config: Config) -> FakeKube {
    FakeKube::start(config).await.expect("the fake starts")
}

/// A pre-signed STS `GetCallerIdentity` URL for `cluster`, like `aws eks get-token` makes it.
pub fn presigned_url(cluster: &str, access_key: &str, secret: &str, signed_at: SystemTime) -> String {
    let identity: Identity = Credentials::new(access_key, secret, Some("session".into()), None, "test").into();
    let mut settings = SigningSettings::default();
    settings.signature_location = SignatureLocation::QueryParams;
    settings.expires_in = Some(Duration::from_secs(60));
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(REGION)
        .name("sts")
        .time(signed_at)
        .settings(settings)
        .build()
        .expect("signing params")
        .into();
    let url = format!("https://sts.{REGION}.amazonaws.com/?Action=GetCallerIdentity&Version=2011-06-15");
    let request = SignableRequest::new(
        "GET",
        url.as_str(),
        [("x-k8s-aws-id", cluster)].into_iter(),
        SignableBody::Bytes(&[]),
    )
    .expect("signable request");
    let (instructions, _) = sign(request, &params).expect("signed").into_parts();
    let mut request = http::Request::get(url).body(()).expect("request");
    instructions.apply_to_request_http1x(&mut request);
    request.uri().to_string()
}

/// `k8s-aws-v1.` + base64url (no padding) of `url`.
pub fn encode_token(url: &str) -> String {
    format!("k8s-aws-v1.{}", URL_SAFE_NO_PAD.encode(url))
}

/// A valid token for the `demo` cluster, signed now with the `testing` credentials.
pub fn valid_token() -> String {
    encode_token(&presigned_url(CLUSTER, ACCESS_KEY, SECRET, SystemTime::now()))
}

/// A `kube::Client` that trusts the fake's CA and sends `token`.
pub fn client_with_token(kube: &FakeKube, token: &str) -> kube::Client {
    let mut config = kube::Config::new(kube.endpoint().parse().expect("endpoint is a URI"));
    let ca = pem::parse_many(kube.ca_pem()).expect("CA is PEM");
    config.root_cert = Some(ca.into_iter().map(|pem| pem.into_contents()).collect());
    config.auth_info.token = Some(SecretString::from(token.to_string()));
    kube::Client::try_from(config).expect("kube client")
}

pub fn client(kube: &FakeKube) -> kube::Client {
    client_with_token(kube, &valid_token())
}

/// Polls `check` every 20 ms until it returns `Some`, for at most `timeout`.
pub async fn eventually<T, F, Fut>(what: &str, timeout: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let started = Instant::now();
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(
            started.elapsed() < timeout,
            "timed out after {timeout:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The pod once its phase is `phase`.
pub async fn pod_in_phase(pods: &Api<Pod>, name: &str, phase: &str) -> Pod {
    eventually(&format!("pod {name} {phase}"), Duration::from_secs(10), || async {
        let pod = pods.get(name).await.ok()?;
        let current = pod.status.as_ref()?.phase.as_deref()?;
        (current == phase).then_some(pod)
    })
    .await
}

/// The first event about `pod` with `reason`.
pub async fn event(client: &kube::Client, namespace: &str, pod: &str, reason: &str) -> Event {
    let events: Api<Event> = Api::namespaced(client.clone(), namespace);
    let params = ListParams::default().fields(&format!("involvedObject.name={pod}"));
    eventually(
        &format!("event {reason} for {pod}"),
        Duration::from_secs(10),
        || async {
            let list = events.list(&params).await.ok()?;
            list.items.into_iter().find(|e| e.reason.as_deref() == Some(reason))
        },
    )
    .await
}

/// The log of a pod's only container.
pub async fn logs(pods: &Api<Pod>, name: &str) -> String {
    pods.logs(name, &LogParams::default()).await.expect("logs")
}

/// Access entries for a cluster admin (`admin`) and one principal (`member`) with no access
/// policy, only a username and a Kubernetes group: what RBAC and admission tests start from.
pub fn admin_and_group_member(admin: &str, member: &str, username: &str, group: &str) -> StaticAccessEntries {
    StaticAccessEntries::new()
        .with(
            CLUSTER,
            admin,
            ResolvedAccess {
                policies: vec![AccessPolicy::cluster_admin()],
                ..ResolvedAccess::default()
            },
        )
        .with(
            CLUSTER,
            member,
            ResolvedAccess {
                username: username.into(),
                kubernetes_groups: vec![group.into()],
                policies: vec![],
            },
        )
}
