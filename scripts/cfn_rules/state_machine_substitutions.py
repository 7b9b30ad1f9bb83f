"""cfn-lint rule E9102: a SAM state machine's DefinitionSubstitutions match its definition file.

For every `AWS::Serverless::StateMachine` whose `DefinitionUri` is a local file (a path relative to
the template), the file must exist and be JSON, every `${Name}` placeholder in it must have a
`DefinitionSubstitutions` entry, and every entry must be used. A missing entry would deploy a
definition that still says `${Name}`; an unused one usually means a renamed placeholder. The local
stack substitutes the same names, so this keeps both in step.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from cfnlint.rules import CloudFormationLintRule, RuleMatch

PLACEHOLDER = re.compile(r"\$\{([^}]+)\}")


class StateMachineSubstitutions(CloudFormationLintRule):
    """DefinitionSubstitutions cover exactly the placeholders of the definition file."""

    id = "E9102"
    shortdesc = "State machine substitutions match the definition file"
    description = (
        "Every ${Name} in a SAM state machine's local DefinitionUri file has a DefinitionSubstitutions "
        "entry, and every entry is used."
    )
    source_url = "https://docs.aws.amazon.com/serverless-application-model/latest/developerguide/sam-resource-statemachine.html"
    tags = ["resources", "stepfunctions"]

    def match(self, cfn: Any) -> list[RuleMatch]:
        matches: list[RuleMatch] = []
        base = Path(cfn.filename).parent if cfn.filename else Path.cwd()
        for name, resource in cfn.get_resources(["AWS::Serverless::StateMachine"]).items():
            properties = resource.get("Properties") or {}
            uri = properties.get("DefinitionUri")
            if not isinstance(uri, str) or uri.startswith("s3://"):
                continue
            path = ["Resources", name, "Properties", "DefinitionUri"]
            file = base / uri
            try:
                text = file.read_text(encoding="utf-8")
                json.loads(text)
            except (OSError, ValueError) as e:
                matches.append(RuleMatch(path, f"{name}: cannot read {uri} as JSON: {e}"))
                continue
            used = set(PLACEHOLDER.findall(text))
            substitutions = properties.get("DefinitionSubstitutions") or {}
            given = set(substitutions) if isinstance(substitutions, dict) else set()
            for missing in sorted(used - given):
                matches.append(RuleMatch(path, f"{name}: {uri} uses ${{{missing}}} but DefinitionSubstitutions has no {missing}"))
            for unused in sorted(given - used):
                matches.append(
                    RuleMatch(
                        ["Resources", name, "Properties", "DefinitionSubstitutions", unused],
                        f"{name}: DefinitionSubstitutions.{unused} is not used in {uri}",
                    )
                )
        return matches
