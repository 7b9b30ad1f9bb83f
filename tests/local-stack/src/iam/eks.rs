//! What IAM authorizes for each EKS call the handlers make: the action, the resource ARN (the
//! cluster, Fargate profile or access entry, as the Service Authorization Reference lists them) and
//! the context keys EKS supplies (`aws:RequestTag/*`, `aws:TagKeys`, `aws:ResourceTag/*` of the
//! resource, `eks:principalArn`, `eks:accessEntryType`, `eks:kubernetesGroups`, `eks:policyArn`,
//! `eks:accessScope`, `eks:namespaces`). A create that carries tags is also a `TagResource` on the
//! new resource (tag-on-create), as on AWS. The resources' tags are read as they are now: the
//! cluster's and profiles' from moto, the access entries' from the gateway's store.

use bytes::Bytes;
use http::Method;
use serde_json::Value;

use super::context::{Tags, request_tags, resource_tags, strings};
use super::evaluate::Request;
use super::{Lookup, Unmodelled};
use crate::access;
use crate::rest;

/// The authorizations one EKS call needs, in the order AWS checks them.
pub(crate) async fn requests(lookup: &Lookup<'_>, body: &Bytes) -> Result<Vec<Request>, Unmodelled> {
    let parts = lookup.parts;
    let segments = rest::path_segments(&parts.uri);
    let s: Vec<&str> = segments.iter().map(String::as_str).collect();
    let body: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let unmodelled = || Unmodelled(format!("EKS {} {}", parts.method, parts.uri.path()));
    let requests = match (&parts.method, s.as_slice()) {
        (&Method::GET, ["clusters"]) => vec![Request::new("eks:ListClusters", "*")],
        (&Method::GET, ["access-policies"]) => vec![Request::new("eks:ListAccessPolicies", "*")],
        (&Method::GET, ["clusters", cluster]) => vec![lookup.on_cluster("eks:DescribeCluster", cluster).await?],
        (&Method::GET, ["clusters", cluster, "fargate-profiles"]) => {
            vec![lookup.on_cluster("eks:ListFargateProfiles", cluster).await?]
        }
        (&Method::POST, ["clusters", cluster, "fargate-profiles"]) => {
            let create = tagged(lookup.on_cluster("eks:CreateFargateProfile", cluster).await?, &body);
            let name = body["fargateProfileName"].as_str().unwrap_or_default();
            let arn = format!("{}:fargateprofile/{cluster}/{name}/*", lookup.arn_prefix("eks"));
            let mut requests = with_tag_on_create(create, arn, &body);
            // The profile's pods run as its pod execution role, which the caller passes to EKS.
            let pod_role = body["podExecutionRoleArn"].as_str().unwrap_or_default();
            requests.push(
                Request::new("iam:PassRole", pod_role).with("iam:PassedToService", ["eks-fargate-pods.amazonaws.com"]),
            );
            requests
        }
        (method, ["clusters", cluster, "fargate-profiles", name]) => {
            let action = match *method {
                Method::GET => "eks:DescribeFargateProfile",
                Method::DELETE => "eks:DeleteFargateProfile",
                _ => return Err(unmodelled()),
            };
            vec![lookup.on_profile(action, cluster, name).await?]
        }
        (&Method::GET, ["clusters", cluster, "access-entries"]) => {
            vec![lookup.on_cluster("eks:ListAccessEntries", cluster).await?]
        }
        (&Method::POST, ["clusters", cluster, "access-entries"]) => {
            let principal = body["principalArn"].as_str().unwrap_or_default();
            let create = tagged(lookup.on_cluster("eks:CreateAccessEntry", cluster).await?, &body)
                .with("eks:principalArn", [principal])
                .with("eks:accessEntryType", [body["type"].as_str().unwrap_or("STANDARD")])
                .with("eks:kubernetesGroups", strings(&body["kubernetesGroups"]));
            let arn = format!(
                "{}:access-entry/{cluster}/{}/*",
                lookup.arn_prefix("eks"),
                entry_path(principal)
            );
            with_tag_on_create(create, arn, &body)
        }
        (method, ["clusters", cluster, "access-entries", principal, rest @ ..]) => {
            let action = match (method, rest) {
                (&Method::GET, []) => "eks:DescribeAccessEntry",
                (&Method::POST, []) => "eks:UpdateAccessEntry",
                (&Method::DELETE, []) => "eks:DeleteAccessEntry",
                (&Method::GET, ["access-policies"]) => "eks:ListAssociatedAccessPolicies",
                (&Method::POST, ["access-policies"]) => "eks:AssociateAccessPolicy",
                (&Method::DELETE, ["access-policies", _]) => "eks:DisassociateAccessPolicy",
                _ => return Err(unmodelled()),
            };
            let mut request = lookup.on_entry(action, cluster, principal).await?;
            if action == "eks:UpdateAccessEntry" {
                request = request.with("eks:kubernetesGroups", strings(&body["kubernetesGroups"]));
            }
            if action == "eks:AssociateAccessPolicy" {
                let scope = &body["accessScope"];
                request = request
                    .with("eks:policyArn", strings(&body["policyArn"]))
                    .with("eks:accessScope", strings(&scope["type"]))
                    .with("eks:namespaces", strings(&scope["namespaces"]));
            }
            if let ["access-policies", policy] = rest {
                request = request.with("eks:policyArn", [*policy]);
            }
            vec![request]
        }
        _ => return Err(unmodelled()),
    };
    Ok(requests)
}

impl Lookup<'_> {
    /// A request on cluster `name`, with its tags as `aws:ResourceTag/*` (none if it does not exist:
    /// the call then fails on its own, after authorization, as on AWS).
    async fn on_cluster(&self, action: &str, name: &str) -> Result<Request, Unmodelled> {
        let described = self.get(&format!("/clusters/{name}")).await?;
        let arn = match described.as_ref().and_then(|d| d["cluster"]["arn"].as_str()) {
            Some(arn) => arn.to_string(),
            None => format!("{}:cluster/{name}", self.arn_prefix("eks")),
        };
        let tags = described.as_ref().map(|d| map_tags(&d["cluster"]["tags"]));
        Ok(resource_tags(Request::new(action, arn), &tags.unwrap_or_default()))
    }

    async fn on_profile(&self, action: &str, cluster: &str, name: &str) -> Result<Request, Unmodelled> {
        let described = self
            .get(&format!("/clusters/{cluster}/fargate-profiles/{name}"))
            .await?;
        let profile = described.as_ref().map(|d| &d["fargateProfile"]);
        let arn = match profile.and_then(|p| p["fargateProfileArn"].as_str()) {
            Some(arn) => arn.to_string(),
            None => format!("{}:fargateprofile/{cluster}/{name}/*", self.arn_prefix("eks")),
        };
        let tags = profile.map(|p| map_tags(&p["tags"])).unwrap_or_default();
        Ok(resource_tags(Request::new(action, arn), &tags))
    }

    async fn on_entry(&self, action: &str, cluster: &str, principal: &str) -> Result<Request, Unmodelled> {
        let described = self.get(&format!("/clusters/{cluster}")).await?;
        let found = described
            .as_ref()
            .and_then(|d| access::entry_arn_and_tags(&self.shared.access, d, principal));
        let request = match found {
            Some((arn, tags)) => resource_tags(Request::new(action, arn), &tags),
            None => Request::new(
                action,
                format!(
                    "{}:access-entry/{cluster}/{}/*",
                    self.arn_prefix("eks"),
                    entry_path(principal)
                ),
            ),
        };
        Ok(request.with("eks:principalArn", [principal]))
    }
}

/// `role/<account>/<name>` (or `user/...`) of a principal ARN, as an access entry's ARN has it.
fn entry_path(principal_arn: &str) -> String {
    let mut parts = principal_arn.splitn(6, ':');
    let account = parts.nth(4).unwrap_or_default();
    let resource = parts.next().unwrap_or_default();
    let (kind, path) = resource.split_once('/').unwrap_or((resource, ""));
    let name = path.rsplit('/').next().unwrap_or_default();
    format!("{kind}/{account}/{name}")
}

/// EKS's tags: a JSON map.
fn map_tags(tags: &Value) -> Tags {
    serde_json::from_value(tags.clone()).unwrap_or_default()
}

/// The request body's `tags`.
fn body_tags(body: &Value) -> Tags {
    map_tags(&body["tags"])
}

fn tagged(request: Request, body: &Value) -> Request {
    request_tags(request, &body_tags(body))
}

/// The create, then (when it carries tags) the `TagResource` on the resource it makes.
fn with_tag_on_create(create: Request, new_arn: String, body: &Value) -> Vec<Request> {
    let tags = body_tags(body);
    let mut requests = vec![create];
    if !tags.is_empty() {
        requests.push(request_tags(Request::new("eks:TagResource", new_arn), &tags));
    }
    requests
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn an_entry_arn_names_the_principal_as_eks_does() {
        assert_eq!(
            entry_path("arn:aws:iam::123456789012:role/path/efs-workflow-cluster-access"),
            "role/123456789012/efs-workflow-cluster-access"
        );
        assert_eq!(entry_path("arn:aws:iam::1:user/alice"), "user/1/alice");
    }

    #[test]
    fn request_tags_give_each_tag_and_the_key_set() {
        let body = json!({ "tags": { "app": "ours", "team": "a" } });
        let request = tagged(Request::new("eks:TagResource", "x"), &body);
        assert_eq!(request.context["aws:requesttag/app"], ["ours"]);
        assert_eq!(request.context["aws:tagkeys"], ["app", "team"]);
        assert_eq!(with_tag_on_create(Request::new("a", "b"), "c".into(), &body).len(), 2);
        assert_eq!(
            with_tag_on_create(Request::new("a", "b"), "c".into(), &json!({})).len(),
            1
        );
    }
}
