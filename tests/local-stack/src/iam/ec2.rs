//! What IAM authorizes for each EC2 call the handlers make (EC2's query protocol: the action and
//! its parameters are the form body): the describe calls on `*`, `DescribeVpcAttribute` on the
//! VPC, `CreateSecurityGroup` on the new group (with its tags) and on the VPC plus the
//! tag-on-create `ec2:CreateTags` (with `ec2:CreateAction`), and the security-group changes on the
//! group with its tags as `aws:ResourceTag/*` and `ec2:ResourceTag/*`, read from moto.

use bytes::Bytes;

use super::context::{Tags, request_tags, resource_tags, xml_tags};
use super::evaluate::Request;
use super::{Lookup, Unmodelled};

/// How EC2 answers name a tag list, its entries and their key and value.
const EC2_TAGS: [&str; 4] = ["tagSet", "item", "key", "value"];

/// The authorizations one EC2 call needs, in the order AWS checks them.
pub(crate) async fn requests(lookup: &Lookup<'_>, body: &Bytes) -> Result<Vec<Request>, Unmodelled> {
    let form: Vec<(String, String)> = form_urlencoded::parse(body).into_owned().collect();
    let param = |name: &str| form.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
    let action = param("Action").unwrap_or_default();
    let prefix = lookup.arn_prefix("ec2");
    let requests = match action {
        "DescribeSubnets" | "DescribeRouteTables" | "DescribeSecurityGroups" | "DescribeNetworkInterfaces" => {
            vec![Request::new(format!("ec2:{action}"), "*")]
        }
        "DescribeVpcAttribute" => vec![Request::new(
            "ec2:DescribeVpcAttribute",
            format!("{prefix}:vpc/{}", param("VpcId").unwrap_or_default()),
        )],
        "CreateSecurityGroup" => {
            let tags = tag_specification(&form, "security-group");
            let group = format!("{prefix}:security-group/*");
            let mut requests = vec![
                request_tags(Request::new("ec2:CreateSecurityGroup", &group), &tags),
                Request::new(
                    "ec2:CreateSecurityGroup",
                    format!("{prefix}:vpc/{}", param("VpcId").unwrap_or_default()),
                ),
            ];
            if !tags.is_empty() {
                requests.push(
                    request_tags(Request::new("ec2:CreateTags", group), &tags)
                        .with("ec2:CreateAction", ["CreateSecurityGroup"]),
                );
            }
            requests
        }
        "AuthorizeSecurityGroupIngress" | "DeleteSecurityGroup" => {
            let group = param("GroupId").ok_or_else(|| Unmodelled(format!("EC2 {action} without GroupId")))?;
            let tags = security_group_tags(lookup, group).await?;
            let request = Request::new(format!("ec2:{action}"), format!("{prefix}:security-group/{group}"));
            vec![ec2_resource_tags(resource_tags(request, &tags), &tags)]
        }
        other => return Err(Unmodelled(format!("EC2 {other}"))),
    };
    Ok(requests)
}

/// The tags of `TagSpecification.N` for `resource_type` (`TagSpecification.1.Tag.1.Key`, ...).
fn tag_specification(form: &[(String, String)], resource_type: &str) -> Tags {
    let mut tags = Tags::new();
    for spec in 1.. {
        let key = |suffix: &str| format!("TagSpecification.{spec}.{suffix}");
        let Some((_, kind)) = form.iter().find(|(k, _)| *k == key("ResourceType")) else {
            break;
        };
        if kind != resource_type {
            continue;
        }
        for tag in 1.. {
            let get = |field: &str| {
                form.iter()
                    .find(|(k, _)| *k == key(&format!("Tag.{tag}.{field}")))
                    .map(|(_, v)| v.clone())
            };
            let Some(name) = get("Key") else { break };
            tags.insert(name, get("Value").unwrap_or_default());
        }
    }
    tags
}

/// `ec2:ResourceTag/<key>`: EC2's own name for the resource's tags, which its policies may use.
fn ec2_resource_tags(mut request: Request, tags: &Tags) -> Request {
    for (key, value) in tags {
        request = request.with(&format!("ec2:ResourceTag/{key}"), [value.as_str()]);
    }
    request
}

/// The security group's tags as moto holds them (none when it has no such group).
async fn security_group_tags(lookup: &Lookup<'_>, group: &str) -> Result<Tags, Unmodelled> {
    let path = format!("/?Action=DescribeSecurityGroups&Version=2016-11-15&GroupId.1={group}");
    let text = lookup.get_text(&path).await?.unwrap_or_default();
    Ok(xml_tags(&text, EC2_TAGS))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tag_specifications_and_tag_sets_read_as_maps() {
        let form: Vec<(String, String)> = form_urlencoded::parse(
            b"Action=CreateSecurityGroup&TagSpecification.1.ResourceType=security-group\
              &TagSpecification.1.Tag.1.Key=app&TagSpecification.1.Tag.1.Value=ours\
              &TagSpecification.1.Tag.2.Key=Name&TagSpecification.1.Tag.2.Value=sg",
        )
        .into_owned()
        .collect();
        let tags = tag_specification(&form, "security-group");
        assert_eq!(tags.get("app").map(String::as_str), Some("ours"));
        assert_eq!(tags.len(), 2);
        assert!(tag_specification(&form, "vpc").is_empty());
        let xml = "<securityGroupInfo><item><groupId>sg-1</groupId><tagSet><item><key>app</key>\
                   <value>ours</value></item><item><key>Name</key><value>sg</value></item></tagSet></item>";
        let tags = xml_tags(xml, EC2_TAGS);
        assert_eq!(tags.get("Name").map(String::as_str), Some("sg"));
        assert_eq!(tags.len(), 2);
    }
}
