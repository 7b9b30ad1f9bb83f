//! Which AWS service a request is for, the way moto's dispatcher tells: from the SigV4 credential
//! scope in the `Authorization` header (`Credential=AKID/DATE/REGION/SERVICE/aws4_request`).

use http::HeaderMap;
use http::header::AUTHORIZATION;

/// The parts of the SigV4 credential scope: `AKID/DATE/REGION/SERVICE/aws4_request`.
fn credential_scope(headers: &HeaderMap) -> Option<Vec<&str>> {
    let authorization = headers.get(AUTHORIZATION)?.to_str().ok()?;
    let scope = authorization.split("Credential=").nth(1)?;
    Some(scope.split([',', ' ']).next()?.split('/').collect())
}

/// The access key that signed the request.
pub(crate) fn access_key_id(headers: &HeaderMap) -> Option<&str> {
    credential_scope(headers)?
        .first()
        .copied()
        .filter(|key| !key.is_empty())
}

/// The region the request was signed for.
pub(crate) fn region(headers: &HeaderMap) -> Option<&str> {
    credential_scope(headers)?
        .get(2)
        .copied()
        .filter(|region| !region.is_empty())
}

/// The signing name (`ec2`, `elasticfilesystem`, `eks`, `kms`, `sts`, `states`, `lambda`, ...), or
/// `None` for an unsigned request (moto's control API, a presigned URL).
pub(crate) fn service(headers: &HeaderMap) -> Option<&str> {
    credential_scope(headers)?
        .get(3)
        .copied()
        .filter(|service| !service.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn headers(authorization: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(AUTHORIZATION, HeaderValue::from_str(authorization).unwrap());
        headers
    }

    #[test]
    fn the_service_comes_from_the_credential_scope() {
        let signed = headers(
            "AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/elasticfilesystem/aws4_request, \
             SignedHeaders=host;x-amz-date, Signature=00",
        );
        assert_eq!(service(&signed), Some("elasticfilesystem"));
        assert_eq!(access_key_id(&signed), Some("testing"));
        assert_eq!(region(&signed), Some("us-east-1"));
        let boto =
            headers("AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/states/aws4_request,SignedHeaders=host");
        assert_eq!(service(&boto), Some("states"));
        assert_eq!(service(&HeaderMap::new()), None);
        assert_eq!(service(&headers("Bearer token")), None);
    }
}
