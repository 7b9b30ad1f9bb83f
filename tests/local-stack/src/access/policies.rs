//! The AWS-managed access policies (`ListAccessPolicies`): the ones a cluster-access role is
//! usually granted. An association must name one of them.

/// Names of the managed policies, sorted as `ListAccessPolicies` lists them.
pub(crate) const MANAGED: [&str; 5] = [
    "AmazonEKSAdminPolicy",
    "AmazonEKSAdminViewPolicy",
    "AmazonEKSClusterAdminPolicy",
    "AmazonEKSEditPolicy",
    "AmazonEKSViewPolicy",
];

/// What the cluster creator is granted when `bootstrapClusterCreatorAdminPermissions` is true.
pub(crate) const CLUSTER_ADMIN: &str = "AmazonEKSClusterAdminPolicy";

/// `arn:<partition>:eks::aws:cluster-access-policy/<name>`.
pub(crate) fn arn(partition: &str, name: &str) -> String {
    format!("arn:{partition}:eks::aws:cluster-access-policy/{name}")
}

/// The managed policy an ARN names, in any partition; `None` for anything else.
pub(crate) fn name_of(policy_arn: &str) -> Option<&'static str> {
    let parts: Vec<&str> = policy_arn.splitn(6, ':').collect();
    let ["arn", _, "eks", "", "aws", resource] = parts.as_slice() else {
        return None;
    };
    let name = resource.strip_prefix("cluster-access-policy/")?;
    MANAGED.into_iter().find(|managed| *managed == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_managed_policy_arns_are_known() {
        assert_eq!(
            name_of("arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy"),
            Some("AmazonEKSViewPolicy")
        );
        assert_eq!(name_of(&arn("aws-cn", CLUSTER_ADMIN)), Some(CLUSTER_ADMIN));
        assert_eq!(name_of("arn:aws:eks::aws:cluster-access-policy/MadeUp"), None);
        assert_eq!(name_of("arn:aws:iam::aws:policy/AdministratorAccess"), None);
        assert!(MANAGED.is_sorted());
    }
}
