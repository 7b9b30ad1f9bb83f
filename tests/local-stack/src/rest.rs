//! The parts of a REST request's URI the gateway routes on: its path segments and query pairs.

use http::Uri;
use percent_encoding::percent_decode_str;

/// The path's segments, each percent-decoded after the split (a label may hold an encoded `/`,
/// as a principal ARN in an EKS route does).
pub(crate) fn path_segments(uri: &Uri) -> Vec<String> {
    uri.path()
        .trim_start_matches('/')
        .split('/')
        .map(|s| percent_decode_str(s).decode_utf8_lossy().into_owned())
        .collect()
}

/// The query string's pairs, decoded.
pub(crate) fn query_pairs(uri: &Uri) -> Vec<(String, String)> {
    form_urlencoded::parse(uri.query().unwrap_or("").as_bytes())
        .into_owned()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_are_decoded_after_the_split() {
        let uri: Uri = "/clusters/demo/access-entries/arn%3Aaws%3Aiam%3A%3A1%3Arole%2Fx?maxResults=2&a=b%20c"
            .parse()
            .unwrap();
        assert_eq!(
            path_segments(&uri),
            ["clusters", "demo", "access-entries", "arn:aws:iam::1:role/x"]
        );
        assert_eq!(
            query_pairs(&uri),
            [("maxResults".to_string(), "2".to_string()), ("a".into(), "b c".into())]
        );
    }
}
