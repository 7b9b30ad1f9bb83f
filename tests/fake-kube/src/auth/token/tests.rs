//! The token checks of `super` against a golden pre-signed URL: a valid token is accepted by
//! recomputing its signature, and each malformed, stale or foreign one fails the check it should.

use super::*;

/// The golden vector of the project notes (§2.2), in botocore's parameter order.
const GOLDEN_URL: &str = "https://sts.us-east-1.amazonaws.com/?Action=GetCallerIdentity&Version=2011-06-15\
    &X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20240102%2Fus-east-1%2Fsts%2Faws4_request\
    &X-Amz-Date=20240102T030405Z&X-Amz-Expires=60&X-Amz-SignedHeaders=host%3Bx-k8s-aws-id\
    &X-Amz-Security-Token=tok\
    &X-Amz-Signature=4660faa078d8d69541f68b5193946aa4751fbd686d87e17f363cb80d4c36f72e";
const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

fn verifier(cluster: &str) -> TokenVerifier {
    TokenVerifier::new(cluster, &[("AKIDEXAMPLE".into(), SECRET.into())])
}

fn token(url: &str) -> String {
    format!("{PREFIX}{}", URL_SAFE_NO_PAD.encode(url))
}

fn at(rfc3339: &str) -> SystemTime {
    SystemTime::from(rfc3339.parse::<jiff::Timestamp>().unwrap())
}

#[test]
fn accepts_the_golden_vector_by_recomputing_its_signature() {
    let caller = verifier("demo")
        .verify(&token(GOLDEN_URL), at("2024-01-02T03:05:00Z"))
        .unwrap();
    assert_eq!(caller.access_key_id, "AKIDEXAMPLE");
}

#[test]
fn rejects_a_token_for_another_cluster_or_with_another_signature() {
    let err = verifier("other")
        .verify(&token(GOLDEN_URL), at("2024-01-02T03:05:00Z"))
        .unwrap_err();
    assert!(matches!(err, TokenError::Signature { .. }), "{err}");
    let tampered = GOLDEN_URL.replace("6f72e", "6f72f");
    let err = verifier("demo")
        .verify(&token(&tampered), at("2024-01-02T03:05:00Z"))
        .unwrap_err();
    assert!(matches!(err, TokenError::Signature { .. }), "{err}");
    assert!(!err.to_string().contains("4660faa"), "never echo the signature");
}

#[test]
fn enforces_the_validity_window() {
    let golden = token(GOLDEN_URL);
    assert_eq!(
        verifier("demo").verify(&golden, at("2024-01-02T03:19:05Z")),
        Ok(Caller {
            access_key_id: "AKIDEXAMPLE".into()
        })
    );
    assert_eq!(
        verifier("demo").verify(&golden, at("2024-01-02T03:19:06Z")),
        Err(TokenError::Expired)
    );
    assert_eq!(
        verifier("demo").verify(&golden, at("2024-01-02T02:49:04Z")),
        Err(TokenError::NotYetValid)
    );
}

#[test]
fn checks_the_url_before_the_signature() {
    let now = at("2024-01-02T03:05:00Z");
    let check = |url: &str| verifier("demo").verify(&token(url), now).unwrap_err();
    assert_eq!(check(&GOLDEN_URL.replace("https:", "http:")), TokenError::NotHttps);
    assert_eq!(
        check(&GOLDEN_URL.replace("sts.us-east-1.amazonaws.com", "evil.example.com")),
        TokenError::Host("evil.example.com".into())
    );
    assert_eq!(check(&GOLDEN_URL.replace(".com/?", ".com/x?")), TokenError::Path);
    assert_eq!(
        check(&format!("{GOLDEN_URL}&Foo=1")),
        TokenError::ParamNotAllowed("Foo".into())
    );
    assert_eq!(
        check(&format!("{GOLDEN_URL}&action=x")),
        TokenError::ParamRepeated("action".into())
    );
    assert_eq!(
        check(&GOLDEN_URL.replace("GetCallerIdentity", "AssumeRole")),
        TokenError::Action
    );
    assert_eq!(
        check(&GOLDEN_URL.replace("host%3Bx-k8s-aws-id", "host")),
        TokenError::ClusterHeaderNotSigned
    );
    assert_eq!(
        check(&GOLDEN_URL.replace("Expires=60", "Expires=901")),
        TokenError::Expires
    );
    assert_eq!(
        check(&GOLDEN_URL.replace("AKIDEXAMPLE", "AKIDUNKNOWN")),
        TokenError::UnknownAccessKey("AKIDUNKNOWN".into())
    );
    assert_eq!(
        check(&GOLDEN_URL.replace("%2Fsts%2F", "%2Fs3%2F")),
        TokenError::Credential
    );
    let err = verifier("demo").verify("k8s-aws-v2.abc", now).unwrap_err();
    assert_eq!(err, TokenError::Prefix);
    let err = verifier("demo")
        .verify(&format!("{}=", token(GOLDEN_URL)), now)
        .unwrap_err();
    assert_eq!(err, TokenError::NotBase64);
}

#[test]
fn knows_sts_hosts() {
    assert!(is_sts_host("sts.amazonaws.com"));
    assert!(is_sts_host("sts.eu-west-2.amazonaws.com"));
    assert!(is_sts_host("sts.cn-north-1.amazonaws.com.cn"));
    assert!(!is_sts_host("sts.evil.com"));
    assert!(!is_sts_host("sts..amazonaws.com"));
    assert!(!is_sts_host("xsts.amazonaws.com"));
}
