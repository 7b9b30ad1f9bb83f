//! Bearer tokens are checked like aws-iam-authenticator checks them.

use std::time::{Duration, SystemTime};

use fake_kube_apiserver::Config;
use k8s_openapi::api::core::v1::Namespace;
use kube::api::{Api, ListParams};

use crate::common::{
    ACCESS_KEY, CLUSTER, SECRET, client_with_token, config, encode_token, presigned_url, start, valid_token,
};

/// The `Status` a list of namespaces gets with `token`, or `None` when it succeeds.
async fn list_with(kube: &fake_kube_apiserver::FakeKube, token: &str) -> Option<kube::core::Status> {
    let namespaces: Api<Namespace> = Api::all(client_with_token(kube, token));
    match namespaces.list(&ListParams::default()).await {
        Ok(_) => None,
        Err(kube::Error::Api(status)) => Some(*status),
        Err(other) => panic!("expected a Status, got {other:?}"),
    }
}

#[tokio::test]
async fn only_valid_tokens_for_this_cluster_get_in() {
    let kube = start(config()).await;
    let now = SystemTime::now();
    let url = presigned_url(CLUSTER, ACCESS_KEY, SECRET, now);
    assert_eq!(list_with(&kube, &valid_token()).await, None);

    let signature_at = url.find("X-Amz-Signature=").expect("a signature") + "X-Amz-Signature=".len();
    let flipped = if url[signature_at..].starts_with('0') { "1" } else { "0" };
    let tampered = format!("{}{flipped}{}", &url[..signature_at], &url[signature_at + 1..]);
    let rejected = [
        (
            "expired",
            encode_token(&presigned_url(
                CLUSTER,
                ACCESS_KEY,
                SECRET,
                now - Duration::from_secs(20 * 60),
            )),
            "expired",
        ),
        (
            "other cluster",
            encode_token(&presigned_url("other", ACCESS_KEY, SECRET, now)),
            "signature does not match",
        ),
        (
            "tampered signature",
            encode_token(&tampered),
            "signature does not match",
        ),
        (
            "extra parameter",
            encode_token(&format!("{url}&Extra=1")),
            "non-whitelisted query parameter \"Extra\"",
        ),
        (
            "not https",
            encode_token(&url.replacen("https://", "http://", 1)),
            "scheme is not https",
        ),
        (
            "bad prefix",
            encode_token(&url).replacen("k8s-aws-v1.", "k8s-aws-v2.", 1),
            "does not start with",
        ),
        (
            "unknown access key",
            encode_token(&presigned_url(CLUSTER, "AKIDUNKNOWN", SECRET, now)),
            "unknown access key AKIDUNKNOWN",
        ),
        (
            "wrong secret",
            encode_token(&presigned_url(CLUSTER, ACCESS_KEY, "wrong", now)),
            "signature does not match",
        ),
    ];
    for (case, token, expected) in rejected {
        let status = list_with(&kube, &token)
            .await
            .unwrap_or_else(|| panic!("{case}: accepted"));
        assert_eq!((status.code, status.reason.as_str()), (401, "Unauthorized"), "{case}");
        assert!(status.message.contains(expected), "{case}: {}", status.message);
        assert!(!status.message.contains(&token[11..40]), "{case}: the token is echoed");
    }
}

#[tokio::test]
async fn valid_signers_outside_the_authorized_list_are_forbidden() {
    let kube = start(Config {
        credentials: vec![(ACCESS_KEY.into(), SECRET.into()), ("reader".into(), "secret".into())],
        authorized_access_keys: Some(vec![ACCESS_KEY.into()]),
        ..config()
    })
    .await;
    assert_eq!(list_with(&kube, &valid_token()).await, None);
    let reader = encode_token(&presigned_url(CLUSTER, "reader", "secret", SystemTime::now()));
    let status = list_with(&kube, &reader).await.expect("forbidden");
    assert_eq!((status.code, status.reason.as_str()), (403, "Forbidden"));
    assert_eq!(
        status.message,
        "namespaces is forbidden: User \"reader\" cannot list resource \"namespaces\" in API group \"\" at the cluster scope"
    );
}

#[tokio::test]
async fn version_is_public_but_nothing_else_is() {
    let kube = start(config()).await;
    let anonymous = client_with_token(&kube, "");
    assert_eq!(
        anonymous.apiserver_version().await.unwrap().git_version,
        "v1.33.0-eks-fake"
    );
    let status = list_with(&kube, "").await.expect("unauthorized");
    assert_eq!(status.code, 401);
}
