"""cfn-lint rule E9104: the IAM conditions AWS offers, wherever they confine a grant.

- Every role trust statement that lets an AWS service assume the role names the account (or the
  resource) it acts for: `aws:SourceAccount` or `aws:SourceArn` (confused-deputy prevention).
- Every statement allowing an EKS access-entry action carries the condition keys EKS evaluates for
  it (service authorization reference): `eks:CreateAccessEntry` `eks:principalArn`,
  `eks:kubernetesGroups` and `eks:accessEntryType`; `eks:AssociateAccessPolicy` `eks:policyArn` and
  `eks:accessScope` (`eks:UpdateAccessEntry` has none).

Policies are found and intrinsic functions followed as rule E9101 does (its helpers are loaded by
path). The negative fixture `fixtures/conditions.yaml` must fail with this rule's id (checked by
`scripts/test.sh`).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from cfnlint.rules import CloudFormationLintRule, RuleMatch


# E9101's walking helpers: cfn-lint loads rule files, not a package, so the directory is put on
# the import path.
sys.path.insert(0, str(Path(__file__).parent))
import no_wildcard_actions as _policies  # noqa: E402

# Action -> the condition keys a statement allowing it must carry.
REQUIRED_KEYS: dict[str, tuple[str, ...]] = {
    "eks:createaccessentry": ("eks:principalArn", "eks:kubernetesGroups", "eks:accessEntryType"),
    "eks:associateaccesspolicy": ("eks:policyArn", "eks:accessScope"),
}
SOURCE_KEYS = ("aws:sourceaccount", "aws:sourcearn")


class RequiredConditions(CloudFormationLintRule):
    """Grants carry the conditions AWS offers to confine them."""

    id = "E9104"
    shortdesc = "IAM conditions where AWS offers them"
    description = (
        "Service trust names its source account or ARN; EKS access-entry actions carry the EKS "
        "condition keys for the principal, Kubernetes groups, entry type, policy and scope."
    )
    source_url = "https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonelastickubernetesservice.html"
    tags = ["resources", "iam", "least-privilege"]

    def match(self, cfn: Any) -> list[RuleMatch]:
        matches: list[RuleMatch] = []
        types = list(_policies.POLICY_LOCATIONS)
        for name, resource in cfn.get_resources(types).items():
            properties = resource.get("Properties")
            if not isinstance(properties, dict):
                continue
            base = ["Resources", name, "Properties"]
            for location in _policies.POLICY_LOCATIONS.get(resource.get("Type"), []):
                trust = location == ("AssumeRolePolicyDocument",)
                for document, doc_path in _policies._walk(properties, location, base):
                    for statement, path in _policies._statements(document, doc_path):
                        if statement.get("Effect") != "Allow":
                            continue
                        matches.extend(
                            self._trust(name, statement, path) if trust else self._actions(name, statement, path)
                        )
        return matches

    def _trust(self, name: str, statement: dict, path: list[Any]) -> list[RuleMatch]:
        principal = statement.get("Principal")
        if not (isinstance(principal, dict) and "Service" in principal):
            return []
        if _policies._condition_keys(statement.get("Condition", {})) & set(SOURCE_KEYS):
            return []
        return [
            RuleMatch(
                path,
                f"{name}: a service may assume this role for any account; add aws:SourceAccount "
                "(or aws:SourceArn) to the trust statement",
            )
        ]

    def _actions(self, name: str, statement: dict, path: list[Any]) -> list[RuleMatch]:
        keys = _policies._condition_keys(statement.get("Condition", {}))
        sid = f" (Sid {statement['Sid']})" if isinstance(statement.get("Sid"), str) else ""
        matches = []
        for action, _ in _policies._texts(statement.get("Action", []), path + ["Action"]):
            missing = [k for k in REQUIRED_KEYS.get(action.lower(), ()) if k.lower() not in keys]
            if missing:
                matches.append(
                    RuleMatch(
                        path + ["Condition"],
                        f"{name}: statement{sid} allows {action} without {', '.join(missing)}",
                    )
                )
        return matches
