"""cfn-lint rule E9103: a grant that changes or removes an existing resource is scoped to ours.

The workflow's data-safety promise (README "Data safety") is that it only ever changes or deletes
what it created. IAM is the last line of that promise, so every `Allow` statement whose `Action`
names a changing action (see CHANGE_PREFIXES and CHANGE_ACTIONS below: deletes, updates, tagging,
policy and rule changes, key scheduling, ...) must scope it in one of two ways:

- a `Condition` that requires the workflow's ownership tag on the resource:
  `aws:ResourceTag/app.kubernetes.io/managed-by` (or EC2's own `ec2:ResourceTag/...`) equal to
  `efs-fargate-workflow`, with a positive string operator (StringEquals, StringLike); or
- a `Resource` list whose every entry is of the stack's own naming: an intrinsic that points at a
  resource of the template (`!GetAtt X.Arn`, `!Ref X`, a `!Sub` naming `${X}` or `${X.Attr}`), a
  `!Sub` naming `${AWS::StackName}`, or an ARN of a name only the workflow gives (OWN_NAME_PATTERNS,
  e.g. Fargate profiles `fp-<namespace>`).

Tagging actions (TagResource, ec2:CreateTags) may instead be limited to tag-on-create with the
service's create-action key (CREATE_ACTION_KEYS, e.g. `ec2:CreateAction`): such a grant cannot
touch an existing resource at all.

Actions that cannot be scoped this way are in EXEMPTIONS, each with the reason and, where one
exists, the narrower condition or resource the statement must still carry. An action with a `*`
is left to E9101 (which forbids it), and `Deny` statements restrict rather than grant.

Policy documents are found as E9101 finds them (identity and trust policies of IAM resources, SAM
`Policies`), following both branches of `Fn::If` at every level. Loaded through `append_rules` in
`.cfnlintrc.yaml`; the negative fixture `fixtures/owned_changes.yaml` must fail with this rule's
id (checked by `scripts/test.sh`).
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import re
from pathlib import Path
from typing import Any, Iterator

from cfnlint.rules import CloudFormationLintRule, RuleMatch


def _load_sibling(name: str) -> Any:
    """The walking helpers of E9101, loaded by path (cfn-lint loads rule files, not a package)."""
    finder = importlib.machinery.FileFinder(
        str(Path(__file__).parent),
        (importlib.machinery.SourceFileLoader, importlib.machinery.SOURCE_SUFFIXES),
    )
    spec = finder.find_spec(name)
    if spec is None or spec.loader is None:
        raise ImportError(f"{name}.py not found next to {__file__}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_policies = _load_sibling("no_wildcard_actions")

MANAGED_BY_KEY = "app.kubernetes.io/managed-by"
MANAGED_BY_VALUE = "efs-fargate-workflow"

# An action changes an existing resource when its name (after `service:`) starts with one of these.
# Create* is not here: creating cannot hurt what exists (tag-on-create is checked as tagging below).
CHANGE_PREFIXES = (
    "Associate",
    "Attach",
    "Authorize",
    "Cancel",
    "Delete",
    "Deregister",
    "Detach",
    "Disable",
    "Disassociate",
    "Enable",
    "Modify",
    "Put",
    "Remove",
    "Replace",
    "Reset",
    "Restore",
    "Retire",
    "Revoke",
    "Rotate",
    "Schedule",
    "Set",
    "Stop",
    "Tag",
    "Terminate",
    "Untag",
    "Update",
)
# Changing actions whose names do not say so (lower case, as IAM compares action names).
CHANGE_ACTIONS = {
    "ec2:createtags",
    "elasticfilesystem:createtags",
}
# Actions that put tags on a resource: these may also be scoped to tag-on-create.
TAGGING_ACTIONS = {"ec2:createtags", "elasticfilesystem:createtags"}
# Keys that name the creating API call of a tag-on-create authorisation; absent from a direct
# tagging call, so a grant conditioned on them cannot tag an existing resource.
CREATE_ACTION_KEYS = {"ec2:createaction", "elasticfilesystem:createaction"}
OWNERSHIP_KEYS = {f"aws:resourcetag/{MANAGED_BY_KEY}", f"ec2:resourcetag/{MANAGED_BY_KEY}"}
POSITIVE_OPERATORS = {"stringequals", "stringlike", "stringequalsignorecase"}
# ARNs of names only the workflow gives.
OWN_NAME_PATTERNS = (
    # Fargate profiles are named fp-<namespace> (functions/core/src/ownership).
    re.compile(r":fargateprofile/[^/]+/fp-"),
    # The file systems' alarms, efs-fargate-workflow-<hash>-<cluster>-<namespace>-... (ownership::ALARM_NAME_PREFIX).
    re.compile(r":alarm:efs-fargate-workflow-"),
    # The Container Insights collector roles live under the path /efs-fargate-workflow/ (insights::role::PATH).
    re.compile(r":role/efs-fargate-workflow/"),
)


class Exemption:
    """An action that cannot be scoped to our tag or naming, and what the statement must still carry:
    condition keys (lower case) and a pattern every Resource entry must match."""

    # A plain class: cfn-lint loads rule files without registering them in sys.modules, which
    # dataclasses need.
    def __init__(
        self,
        reason: str,
        requires_condition: tuple[str, ...] = (),
        resource_pattern: re.Pattern[str] | None = None,
    ) -> None:
        self.reason = reason
        self.requires_condition = requires_condition
        self.resource_pattern = resource_pattern


EXEMPTIONS: dict[str, Exemption] = {
    # X-Ray has no resource-level permissions (AWS documents Resource "*"); it writes trace data and
    # changes no resource of anyone.
    "xray:puttracesegments": Exemption("X-Ray has no resource-level permissions"),
    "xray:puttelemetryrecords": Exemption("X-Ray has no resource-level permissions"),
    # Step Functions log delivery: CloudWatch Logs documents Resource "*" for the log-delivery calls.
    "logs:putresourcepolicy": Exemption("log delivery has no resource-level permissions"),
    "logs:updatelogdelivery": Exemption("log delivery has no resource-level permissions"),
    "logs:deletelogdelivery": Exemption("log delivery has no resource-level permissions"),
    # DeleteAlias is authorised twice: on the alias (no tag condition key exists for an alias) and
    # on its KMS key (which must carry our tag in another statement). Only the alias half is exempt.
    "kms:deletealias": Exemption(
        "the alias half of kms:DeleteAlias has no tag condition; the key half needs our tag",
        resource_pattern=re.compile(r":alias/"),
    ),
    # CreateKey with Tags is authorised as kms:TagResource on every key of the account and region
    # (KMS developer guide, "Controlling access to tags"), and KMS has no create-action condition
    # key: the grant must at least only ever add the workflow's own tag set.
    "kms:tagresource": Exemption(
        "KMS has no create-action condition key for tag-on-create",
        requires_condition=(f"aws:requesttag/{MANAGED_BY_KEY}", "aws:tagkeys"),
    ),
    # DeleteMountTarget makes EFS delete the mount target's network interface with the caller's
    # permissions; that interface carries no tag of ours. Only calls an AWS service makes for us.
    "ec2:deletenetworkinterface": Exemption(
        "EFS deletes mount-target interfaces (untagged) on the caller's behalf",
        requires_condition=("aws:viaawsservice",),
    ),
}


def _is_change(action: str) -> bool:
    lowered = action.lower()
    if lowered in CHANGE_ACTIONS:
        return True
    _, _, name = action.partition(":")
    return any(name.startswith(prefix) for prefix in CHANGE_PREFIXES)


def _is_tagging(action: str) -> bool:
    lowered = action.lower()
    return lowered in TAGGING_ACTIONS or lowered.partition(":")[2].startswith("tagresource")


def _values(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _has_ownership_condition(condition: Any) -> bool:
    for operator, block in _policies._condition_blocks(condition):
        if operator.lower() not in POSITIVE_OPERATORS:
            continue
        for key, value in block.items():
            if key.lower() in OWNERSHIP_KEYS and MANAGED_BY_VALUE in _values(value):
                return True
    return False


def _resource_texts(value: Any) -> Iterator[Any]:
    """Each concrete Resource entry (both branches of Fn::If)."""
    for concrete, _ in _policies._resolve(value, []):
        if isinstance(concrete, list):
            for item in concrete:
                yield from _resource_texts(item)
        else:
            yield concrete


def _sub_text(entry: dict) -> str | None:
    args = entry.get("Fn::Sub")
    text = args[0] if isinstance(args, list) and args else args
    return text if isinstance(text, str) else None


def _entry_text(entry: Any) -> str | None:
    """The literal text of a Resource entry: a string, or the template of a Fn::Sub."""
    if isinstance(entry, str):
        return entry
    if isinstance(entry, dict) and len(entry) == 1 and "Fn::Sub" in entry:
        return _sub_text(entry)
    return None


class OwnedResourceChanges(CloudFormationLintRule):
    """Changing and deleting grants are limited to resources the workflow owns."""

    id = "E9103"
    shortdesc = "Changing IAM actions are scoped to the workflow's own resources"
    description = (
        "Every Allow of a changing action (Delete*, Update*, Tag*, Put*, Schedule*, ...) requires the "
        "workflow's ownership tag on the resource, names only resources of the stack's own naming, or "
        "(tagging) applies only on creation; documented exemptions aside."
    )
    source_url = "https://docs.aws.amazon.com/IAM/latest/UserGuide/access_tags.html"
    tags = ["resources", "iam", "least-privilege", "data-safety"]

    def match(self, cfn: Any) -> list[RuleMatch]:
        matches: list[RuleMatch] = []
        resources = set(cfn.template.get("Resources", {}) or {})
        types = list(_policies.POLICY_LOCATIONS) + list(_policies.SAM_POLICY_TYPES)
        for name, resource in cfn.get_resources(types).items():
            properties = resource.get("Properties")
            if not isinstance(properties, dict):
                continue
            base = ["Resources", name, "Properties"]
            resource_type = resource.get("Type")
            documents: list[tuple[Any, list[Any]]] = []
            for location in _policies.POLICY_LOCATIONS.get(resource_type, []):
                documents.extend(_policies._walk(properties, location, base))
            if resource_type in _policies.SAM_POLICY_TYPES and "Policies" in properties:
                for value, value_path in _policies._resolve(properties["Policies"], base + ["Policies"]):
                    items = value if isinstance(value, list) else [value]
                    for i, item in enumerate(items):
                        item_path = value_path + [i] if isinstance(value, list) else value_path
                        for policy, policy_path in _policies._resolve(item, item_path):
                            if isinstance(policy, dict) and "Statement" in policy:
                                documents.append((policy, policy_path))
            for document, doc_path in documents:
                matches.extend(self._check_document(name, document, doc_path, resources))
        return matches

    def _check_document(self, name: str, document: Any, path: list[Any], resources: set[str]) -> list[RuleMatch]:
        matches: list[RuleMatch] = []
        for statement, statement_path in _policies._statements(document, path):
            if statement.get("Effect") == "Allow":
                matches.extend(self._check_statement(name, statement, statement_path, resources))
        return matches

    def _check_statement(self, name: str, statement: dict, path: list[Any], resources: set[str]) -> list[RuleMatch]:
        matches: list[RuleMatch] = []
        if "Action" not in statement or "Principal" in statement:
            return matches  # trust policies grant sts actions to principals, not on resources
        sid = f" (Sid {statement['Sid']})" if isinstance(statement.get("Sid"), str) else ""
        condition = statement.get("Condition")
        owned_by_tag = _has_ownership_condition(condition)
        keys = _policies._condition_keys(condition)
        entries = list(_resource_texts(statement.get("Resource")))
        owned_by_name = bool(entries) and all(self._own_name(e, resources) for e in entries)
        for action, action_path in _policies._texts(statement["Action"], path + ["Action"]):
            if "*" in action or not _is_change(action):
                continue
            if owned_by_tag or owned_by_name:
                continue
            if _is_tagging(action) and keys & CREATE_ACTION_KEYS:
                continue
            problem = self._exemption_problem(action, keys, entries)
            if problem is None:
                continue
            matches.append(
                RuleMatch(
                    action_path,
                    f"{name}: policy statement{sid} allows {action} {problem}",
                )
            )
        return matches

    @staticmethod
    def _exemption_problem(action: str, keys: set[str], entries: list[Any]) -> str | None:
        """Why the statement fails; None when a documented exemption covers it."""
        scope = (
            "without requiring aws:ResourceTag/app.kubernetes.io/managed-by=efs-fargate-workflow or naming "
            "only the stack's own resources"
        )
        exemption = EXEMPTIONS.get(action.lower())
        if exemption is None:
            return scope
        missing = [key for key in exemption.requires_condition if key not in keys]
        if missing:
            return f"{scope}; its exemption ({exemption.reason}) still needs condition {', '.join(missing)}"
        texts = [_entry_text(e) for e in entries]
        if exemption.resource_pattern is not None and not (
            texts and all(t is not None and exemption.resource_pattern.search(t) for t in texts)
        ):
            return f"{scope}; its exemption ({exemption.reason}) covers only resources matching {exemption.resource_pattern.pattern}"
        return None

    @staticmethod
    def _own_name(entry: Any, resources: set[str]) -> bool:
        """True when a Resource entry can only name something of the stack's own making."""
        if isinstance(entry, str):
            return any(pattern.search(entry) for pattern in OWN_NAME_PATTERNS)
        if not isinstance(entry, dict) or len(entry) != 1:
            return False
        (function, args), = entry.items()
        if function == "Ref":
            return args in resources
        if function == "Fn::GetAtt":
            target = args[0] if isinstance(args, list) and args else str(args).split(".")[0]
            return target in resources
        if function == "Fn::Sub":
            text = _sub_text(entry)
            if text is None:
                return False
            if any(pattern.search(text) for pattern in OWN_NAME_PATTERNS):
                return True
            names = re.findall(r"\$\{([^}!][^}]*)\}", text)
            return any(n == "AWS::StackName" or n.split(".")[0] in resources for n in names)
        return False
