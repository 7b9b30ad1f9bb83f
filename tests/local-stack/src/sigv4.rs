//! Which AWS service a request is for, the way moto's dispatcher tells: from the SigV4 credential
//! scope in the `Authorization` header (`Credential=AKID/DATE/REGION/SERVICE/aws4_request`).

use http::HeaderMap;
use http::header::AUTHORIZATION;

/// The signing name (`ec2`, `elasticfilesystem`, `eks`, `kms`, `sts`, `states`, `lambda`, ...), or
/// `None` for an unsigned request (moto's control API, a presigned URL).
pub(crate) fn service(headers: &HeaderMap) -> Option<&str> {
    let authorization = headers.get(AUTHORIZATION)?.to_str().ok()?;
    let scope = authorization.split("Credential=").nth(1)?;
    let scope = scope.split([',', ' ']).next()?;
    // AKID/date/region/service/aws4_request: the service is the fourth part.
    scope.split('/').nth(3).filter(|service| !service.is_empty())
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
        let boto =
            headers("AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/states/aws4_request,SignedHeaders=host");
        assert_eq!(service(&boto), Some("states"));
        assert_eq!(service(&HeaderMap::new()), None);
        assert_eq!(service(&headers("Bearer token")), None);
    }
}
