"""cfn-lint rule E9101: no wildcard in any IAM policy action.

Flags every IAM policy statement whose `Action` or `NotAction` is `*`, `service:*` or contains `*`
anywhere (`ec2:Describe*`, `s3:*Object`), and every `Allow` statement that uses `NotAction` (it grants
everything else). It looks at identity policies (`AWS::IAM::Role`/`User`/`Group` `Policies`,
`AWS::IAM::Policy`, `AWS::IAM::ManagedPolicy`, `AWS::IAM::RolePolicy`/`UserPolicy`/`GroupPolicy`),
role trust policies, and the `Policies` of SAM functions and state machines. cfn-lint 1.x validates
SAM templates without running the SAM transform, so SAM `Policies` are checked as written: inline
statements like any other, SAM policy templates (`{S3CrudPolicy: ...}`) are reported because the
actions they expand to cannot be checked here (write the statements out), and AWS managed policies
that grant whole services (`AdministratorAccess`, `PowerUserAccess`, `*FullAccess`) are reported
wherever they are attached.

Intrinsic functions are followed where the action text is visible: both branches of `Fn::If`, the
literal text of `Fn::Sub` and the literal parts of `Fn::Join`. A `*` in `Resource` is not this
rule's business (AWS requires it for actions without resource-level permissions).

Loaded through `append_rules` in the repository's `.cfnlintrc.yaml`; the negative fixture
`fixtures/wildcard.yaml` must fail with this rule's id (checked by `scripts/test.sh`).
"""

from __future__ import annotations

from typing import Any, Iterator

from cfnlint.rules import CloudFormationLintRule, RuleMatch

# Resource type -> property paths (a `*` step iterates a list) that hold policy documents.
POLICY_LOCATIONS: dict[str, list[tuple[Any, ...]]] = {
    "AWS::IAM::Role": [("Policies", "*", "PolicyDocument"), ("AssumeRolePolicyDocument",)],
    "AWS::IAM::User": [("Policies", "*", "PolicyDocument")],
    "AWS::IAM::Group": [("Policies", "*", "PolicyDocument")],
    "AWS::IAM::Policy": [("PolicyDocument",)],
    "AWS::IAM::ManagedPolicy": [("PolicyDocument",)],
    "AWS::IAM::RolePolicy": [("PolicyDocument",)],
    "AWS::IAM::UserPolicy": [("PolicyDocument",)],
    "AWS::IAM::GroupPolicy": [("PolicyDocument",)],
}
# SAM resources whose `Policies` is a managed policy, a policy document, a SAM policy template or a
# list of those.
SAM_POLICY_TYPES = ("AWS::Serverless::Function", "AWS::Serverless::StateMachine")
# Managed policy references: resource type -> property holding a list of ARNs.
MANAGED_POLICY_LOCATIONS = {
    "AWS::IAM::Role": "ManagedPolicyArns",
    "AWS::IAM::User": "ManagedPolicyArns",
    "AWS::IAM::Group": "ManagedPolicyArns",
}
BROAD_MANAGED_POLICIES = ("AdministratorAccess", "PowerUserAccess")


def _resolve(value: Any, path: list[Any]) -> Iterator[tuple[Any, list[Any]]]:
    """Yields the concrete values `value` may take, following both branches of Fn::If."""
    if isinstance(value, dict) and len(value) == 1 and "Fn::If" in value:
        branches = value["Fn::If"]
        if isinstance(branches, list) and len(branches) == 3:
            for i in (1, 2):
                yield from _resolve(branches[i], path + ["Fn::If", i])
        return
    if isinstance(value, dict) and value.get("Ref") == "AWS::NoValue":
        return
    yield value, path


def _walk(value: Any, steps: tuple[Any, ...], path: list[Any]) -> Iterator[tuple[Any, list[Any]]]:
    """Follows `steps` from `value`, iterating lists at `*` steps and resolving Fn::If on the way."""
    for concrete, concrete_path in _resolve(value, path):
        if not steps:
            yield concrete, concrete_path
            continue
        step, rest = steps[0], steps[1:]
        if step == "*":
            if isinstance(concrete, list):
                for i, item in enumerate(concrete):
                    yield from _walk(item, rest, concrete_path + [i])
        elif isinstance(concrete, dict) and step in concrete:
            yield from _walk(concrete[step], rest, concrete_path + [step])


def _texts(value: Any, path: list[Any]) -> Iterator[tuple[str, list[Any]]]:
    """The literal action texts in an Action/NotAction value."""
    for concrete, concrete_path in _resolve(value, path):
        if isinstance(concrete, str):
            yield concrete, concrete_path
        elif isinstance(concrete, list):
            for i, item in enumerate(concrete):
                yield from _texts(item, concrete_path + [i])
        elif isinstance(concrete, dict) and len(concrete) == 1:
            (function, args), = concrete.items()
            if function == "Fn::Sub":
                text = args[0] if isinstance(args, list) and args else args
                if isinstance(text, str):
                    yield text, concrete_path + [function]
            elif function == "Fn::Join" and isinstance(args, list) and len(args) == 2:
                if isinstance(args[1], list):
                    for i, part in enumerate(args[1]):
                        yield from _texts(part, concrete_path + [function, 1, i])


def _statements(document: Any, path: list[Any]) -> Iterator[tuple[dict, list[Any]]]:
    """Each statement of a policy document (both branches of any Fn::If), with its path."""
    if not isinstance(document, dict):
        return
    for statements, st_path in _resolve(document.get("Statement"), path + ["Statement"]):
        items = statements if isinstance(statements, list) else [statements]
        for i, item in enumerate(items):
            item_path = st_path + [i] if isinstance(statements, list) else st_path
            for statement, statement_path in _resolve(item, item_path):
                if isinstance(statement, dict):
                    yield statement, statement_path


def _condition_blocks(condition: Any) -> Iterator[tuple[str, dict]]:
    """(operator, {key: value}) pairs of a Condition, both branches of any Fn::If included."""
    for concrete, _ in _resolve(condition, []):
        if not isinstance(concrete, dict):
            continue
        for operator, block in concrete.items():
            for block_value, _ in _resolve(block, []):
                if isinstance(block_value, dict):
                    yield operator, block_value


def _condition_keys(condition: Any) -> set[str]:
    """The lower-cased keys a Condition tests, under any operator."""
    return {key.lower() for _, block in _condition_blocks(condition) for key in block}


class NoWildcardActions(CloudFormationLintRule):
    """IAM policy statements must name every action exactly."""

    id = "E9101"
    shortdesc = "No wildcard in IAM policy actions"
    description = (
        "Every IAM policy statement lists its actions exactly: no `*`, no `service:*`, no `*` "
        "inside an action name, and no `Allow` with `NotAction`."
    )
    source_url = "https://docs.aws.amazon.com/IAM/latest/UserGuide/best-practices.html#grant-least-privilege"
    tags = ["resources", "iam", "least-privilege"]

    def match(self, cfn: Any) -> list[RuleMatch]:
        matches: list[RuleMatch] = []
        types = list(POLICY_LOCATIONS) + list(SAM_POLICY_TYPES)
        for name, resource in cfn.get_resources(types).items():
            properties = resource.get("Properties")
            if not isinstance(properties, dict):
                continue
            base = ["Resources", name, "Properties"]
            resource_type = resource.get("Type")
            for location in POLICY_LOCATIONS.get(resource_type, []):
                for document, doc_path in _walk(properties, location, base):
                    matches.extend(self._check_document(name, document, doc_path))
            if resource_type in MANAGED_POLICY_LOCATIONS:
                key = MANAGED_POLICY_LOCATIONS[resource_type]
                for arn, arn_path in _texts(properties.get(key, []), base + [key]):
                    matches.extend(self._check_managed(name, arn, arn_path))
            if resource_type in SAM_POLICY_TYPES and "Policies" in properties:
                matches.extend(self._check_sam_policies(name, properties["Policies"], base + ["Policies"]))
        return matches

    def _check_managed(self, name: str, arn: str, path: list[Any]) -> list[RuleMatch]:
        policy = arn.rsplit("/", 1)[-1]
        if policy in BROAD_MANAGED_POLICIES or policy.endswith("FullAccess"):
            return [
                RuleMatch(
                    path,
                    f"{name}: managed policy {policy} grants whole services (wildcard actions); "
                    "write a policy with the exact actions instead",
                )
            ]
        return []

    def _check_sam_policies(self, name: str, policies: Any, path: list[Any]) -> list[RuleMatch]:
        matches = []
        for value, value_path in _resolve(policies, path):
            items = value if isinstance(value, list) else [value]
            for i, item in enumerate(items):
                item_path = value_path + [i] if isinstance(value, list) else value_path
                for policy, policy_path in _resolve(item, item_path):
                    if isinstance(policy, str):
                        matches.extend(self._check_managed(name, policy, policy_path))
                    elif isinstance(policy, dict) and "Statement" in policy:
                        matches.extend(self._check_document(name, policy, policy_path))
                    elif isinstance(policy, dict) and len(policy) == 1:
                        template = next(iter(policy))
                        if not template.startswith("Fn::") and template != "Ref":
                            matches.append(
                                RuleMatch(
                                    policy_path + [template],
                                    f"{name}: SAM policy template {template} expands to actions this rule "
                                    "cannot check; write the policy statements out",
                                )
                            )
        return matches

    def _check_document(self, name: str, document: Any, path: list[Any]) -> list[RuleMatch]:
        matches = []
        for statement, statement_path in _statements(document, path):
            matches.extend(self._check_statement(name, statement, statement_path))
        return matches

    def _check_statement(self, name: str, statement: dict, path: list[Any]) -> list[RuleMatch]:
        matches = []
        sid = f" (Sid {statement['Sid']})" if isinstance(statement.get("Sid"), str) else ""
        for key in ("Action", "NotAction"):
            if key not in statement:
                continue
            for text, text_path in _texts(statement[key], path + [key]):
                if "*" in text:
                    matches.append(
                        RuleMatch(
                            text_path,
                            f"{name}: policy statement{sid} has wildcard {key} {text!r}; "
                            "list the exact actions it needs",
                        )
                    )
        if "NotAction" in statement and statement.get("Effect") == "Allow":
            matches.append(
                RuleMatch(
                    path + ["NotAction"],
                    f"{name}: Allow statement{sid} uses NotAction, which grants every other action; "
                    "list the exact actions it needs",
                )
            )
        return matches
