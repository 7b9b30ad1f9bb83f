//! What IAM authorizes for the handlers' calls in the query protocol (the action and its
//! parameters are the form body) to IAM, CloudWatch and STS: roles by ARN (their path read from
//! moto), with their tags as `aws:ResourceTag/*` and their permissions boundary as
//! `iam:PermissionsBoundary`; a created role's tags, boundary and tag-on-create `iam:TagRole`;
//! alarms by ARN, with the tag-on-create `cloudwatch:TagResource`. `sts:GetCallerIdentity` needs
//! no permission, as on AWS.

use bytes::Bytes;

use super::context::{Tags, request_tags, resource_tags, xml_element, xml_tags};
use super::evaluate::Request;
use super::{Lookup, Unmodelled};

/// The authorizations one call needs, in the order AWS checks them.
pub(crate) async fn requests(lookup: &Lookup<'_>, service: &str, body: &Bytes) -> Result<Vec<Request>, Unmodelled> {
    let form: Vec<(String, String)> = form_urlencoded::parse(body).into_owned().collect();
    let param = |name: &str| {
        form.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let action = param("Action");
    let requests = match (service, action.as_str()) {
        ("sts", "GetCallerIdentity") => Vec::new(),
        // The identity policy's half; the role's trust is the other (`super::sts`).
        ("sts", "AssumeRole") => vec![Request::new("sts:AssumeRole", param("RoleArn"))],
        ("iam", "GetOpenIDConnectProvider") => vec![Request::new(
            "iam:GetOpenIDConnectProvider",
            param("OpenIDConnectProviderArn"),
        )],
        ("iam", "CreateRole") => {
            let path = match param("Path") {
                path if path.is_empty() => "/".to_string(),
                path => path,
            };
            let arn = format!("{}:role{path}{}", iam_prefix(), param("RoleName"));
            let tags = members(&form, "Tags");
            let boundary = param("PermissionsBoundary");
            let mut create = request_tags(Request::new("iam:CreateRole", &arn), &tags);
            if !boundary.is_empty() {
                create = create.with("iam:PermissionsBoundary", [boundary]);
            }
            let mut requests = vec![create];
            if !tags.is_empty() {
                requests.push(request_tags(Request::new("iam:TagRole", arn), &tags));
            }
            requests
        }
        (
            "iam",
            "GetRole"
            | "DeleteRole"
            | "GetRolePolicy"
            | "PutRolePolicy"
            | "DeleteRolePolicy"
            | "ListRolePolicies"
            | "ListAttachedRolePolicies"
            | "UpdateAssumeRolePolicy",
        ) => vec![on_role(lookup, &format!("iam:{action}"), &param("RoleName")).await?],
        ("monitoring", "DescribeAlarms") => vec![Request::new("cloudwatch:DescribeAlarms", "*")],
        ("monitoring", "PutMetricAlarm") => {
            let arn = alarm_arn(lookup, &param("AlarmName"));
            let tags = members(&form, "Tags");
            let mut requests = vec![request_tags(Request::new("cloudwatch:PutMetricAlarm", &arn), &tags)];
            if !tags.is_empty() {
                requests.push(request_tags(Request::new("cloudwatch:TagResource", arn), &tags));
            }
            requests
        }
        ("monitoring", "ListTagsForResource") => {
            vec![Request::new("cloudwatch:ListTagsForResource", param("ResourceARN"))]
        }
        ("monitoring", "DeleteAlarms") => (1..)
            .map_while(|n| form.iter().find(|(k, _)| *k == format!("AlarmNames.member.{n}")))
            .map(|(_, name)| Request::new("cloudwatch:DeleteAlarms", alarm_arn(lookup, name)))
            .collect(),
        _ => return Err(Unmodelled(format!("{service} {action}"))),
    };
    Ok(requests)
}

fn iam_prefix() -> String {
    format!("arn:aws:iam::{}", workflow_tests::ACCOUNT_ID)
}

fn alarm_arn(lookup: &Lookup<'_>, name: &str) -> String {
    format!("{}:alarm:{name}", lookup.arn_prefix("cloudwatch"))
}

/// The `<list>.member.N.Key`/`.Value` pairs of a query request.
fn members(form: &[(String, String)], list: &str) -> Tags {
    let field = |n: usize, name: &str| {
        let key = format!("{list}.member.{n}.{name}");
        form.iter().find(|(k, _)| *k == key).map(|(_, v)| v.clone())
    };
    (1..)
        .map_while(|n| Some((field(n, "Key")?, field(n, "Value").unwrap_or_default())))
        .collect()
}

/// A request on role `name` as moto holds it: its ARN (with its path), tags and boundary; on
/// `role/<name>` without them when there is no such role.
async fn on_role(lookup: &Lookup<'_>, action: &str, name: &str) -> Result<Request, Unmodelled> {
    let path = format!("/?Action=GetRole&Version=2010-05-08&RoleName={name}");
    let Some(xml) = lookup.get_text(&path).await? else {
        return Ok(Request::new(action, format!("{}:role/{name}", iam_prefix())));
    };
    let arn = xml_element(&xml, "Arn").unwrap_or_else(|| format!("{}:role/{name}", iam_prefix()));
    let tags = xml_tags(&xml, ["Tags", "member", "Key", "Value"]);
    let mut request = resource_tags(Request::new(action, arn), &tags);
    if let Some(boundary) = xml_element(&xml, "PermissionsBoundaryArn") {
        request = request.with("iam:PermissionsBoundary", [boundary]);
    }
    Ok(request)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_lists_and_xml_elements_are_read() {
        let form: Vec<(String, String)> =
            form_urlencoded::parse(b"Tags.member.1.Key=app&Tags.member.1.Value=ours&Tags.member.2.Key=Name")
                .into_owned()
                .collect();
        let tags = members(&form, "Tags");
        assert_eq!(tags.get("app").map(String::as_str), Some("ours"));
        assert_eq!(tags.get("Name").map(String::as_str), Some(""));
        let xml = "<Role><Arn>arn:aws:iam::1:role/p/r</Arn><PermissionsBoundary>\
                   <PermissionsBoundaryArn>arn:b</PermissionsBoundaryArn></PermissionsBoundary></Role>";
        assert_eq!(xml_element(xml, "Arn").as_deref(), Some("arn:aws:iam::1:role/p/r"));
        assert_eq!(xml_element(xml, "PermissionsBoundaryArn").as_deref(), Some("arn:b"));
        assert_eq!(xml_element(xml, "Tags"), None);
        let tagged = "<Role><Tags><member><Key>app</Key><Value>ours</Value></member></Tags></Role>";
        assert_eq!(
            xml_tags(tagged, ["Tags", "member", "Key", "Value"])
                .get("app")
                .map(String::as_str),
            Some("ours")
        );
    }
}
