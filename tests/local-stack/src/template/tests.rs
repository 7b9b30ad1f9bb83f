//! The template reader's tests, against the repository's `template.yaml` and small documents.

use super::*;
use efs_fargate_core::functions::{Function, LAMBDA_BINARY};
use serde_json::json;

#[test]
fn rate_expressions_read_as_periods() {
    assert_eq!(rate("rate(15 minutes)"), Some(Duration::from_secs(900)));
    assert_eq!(rate("rate(1 minute)"), Some(Duration::from_secs(60)));
    assert_eq!(rate("rate(2 hours)"), Some(Duration::from_secs(7_200)));
    assert_eq!(rate("rate(1 day)"), Some(Duration::from_secs(86_400)));
    for bad in [
        "rate(1 minutes)",
        "rate(5 minute)",
        "rate(0 minutes)",
        "cron(0 * * * ? *)",
        "rate(5 weeks)",
    ] {
        assert_eq!(rate(bad), None, "{bad}");
    }
}

#[test]
fn the_repository_template_gives_its_two_rules_and_the_reaper_schedule() {
    let template = Template::load_repo().unwrap();
    let refs = BTreeMap::from([("ProvisionStateMachine".to_string(), "arn:provision".to_string())]);
    let rules = template.rules(&refs).unwrap();
    let names: Vec<_> = rules.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(
        names,
        ["ClusterCreatedRule", "RollbackFunctionProvisioningEndedUncaught"]
    );
    let rule = &rules[0];
    assert_eq!(
        rule.pattern,
        json!({
            "source": ["aws.eks"],
            "detail-type": ["AWS API Call via CloudTrail"],
            "detail": {"eventSource": ["eks.amazonaws.com"], "eventName": ["CreateCluster"]},
        })
    );
    assert!(rule.enabled);
    assert_eq!(rule.targets, [Target::StateMachine("arn:provision".into())]);
    // A function's EventBridgeRule event: SAM's rule, targeting the function itself.
    let rollback = &rules[1];
    assert_eq!(
        rollback.pattern,
        json!({
            "source": ["aws.states"],
            "detail-type": ["Step Functions Execution Status Change"],
            "detail": {"status": ["TIMED_OUT", "ABORTED", "FAILED"], "stateMachineArn": ["arn:provision"]},
        })
    );
    assert!(rollback.enabled);
    assert_eq!(rollback.targets, [Target::Function(Function::Rollback)]);
    assert_eq!(
        template.definition_uri("ProvisionStateMachine").unwrap(),
        "statemachine/provision.asl.json"
    );

    let schedules = template.schedules().unwrap();
    let reaper: Vec<_> = schedules.iter().filter(|s| s.function == "ttl-reaper").collect();
    assert_eq!(reaper.len(), 1, "{schedules:?}");
    assert_eq!(reaper[0].expression, "rate(15 minutes)");
    assert_eq!(reaper[0].rate, Duration::from_secs(900));
}

/// Every function of the workflow deployed exactly once, all from the one Lambda binary, under
/// the logical id its state machine placeholder names.
#[test]
fn the_repository_template_runs_every_function_from_the_one_binary() {
    let manifest = workflow_tests::server::repo_root().join("functions/lambda/Cargo.toml");
    let manifest = std::fs::read_to_string(manifest).unwrap();
    assert!(
        manifest.contains(&format!("[[bin]]\nname = \"{LAMBDA_BINARY}\"")),
        "functions/lambda builds the binary LAMBDA_BINARY names"
    );
    let definitions = Template::load_repo().unwrap().functions().unwrap();
    let mut served: Vec<_> = definitions.iter().map(|d| d.function.as_str()).collect();
    served.sort_unstable();
    let mut expected: Vec<_> = Function::ALL.map(Function::name).to_vec();
    expected.sort_unstable();
    assert_eq!(served, expected);
    for definition in &definitions {
        assert_eq!(definition.binary, LAMBDA_BINARY, "{definition:?}");
        let function = Function::from_name(&definition.function).unwrap();
        assert_eq!(
            function.arn_placeholder(),
            format!("${{{}Arn}}", definition.logical_id),
            "{definition:?}"
        );
    }
}

#[test]
fn a_function_without_its_environment_variable_is_refused_with_its_path() {
    let template = Template::parse(
            "Resources:\n  Fn:\n    Type: AWS::Serverless::Function\n    Metadata: {BuildProperties: {Binary: one}}\n    Properties: {}\n",
        )
        .unwrap();
    let error = template.functions().unwrap_err().to_string();
    assert!(
        error.contains("Resources.Fn.Properties.Environment.Variables.EFS_WORKFLOW_FUNCTION"),
        "{error}"
    );
}

#[test]
fn refs_resolve_and_other_intrinsics_are_refused_with_their_path() {
    let text = r#"
Parameters:
  Rate: {Type: String, Default: rate(2 hours)}
Resources:
  Machine:
    Type: AWS::Serverless::StateMachine
    Properties: {DefinitionUri: statemachine/x.asl.json, Role: !GetAtt Role.Arn}
  Fn:
    Type: AWS::Serverless::Function
    Metadata: {BuildProperties: {Binary: one}}
    Properties:
      Environment: {Variables: {EFS_WORKFLOW_FUNCTION: fn}}
      Events:
        Tick: {Type: Schedule, Properties: {Schedule: !Ref Rate}}
        Api: {Type: Api, Properties: {Path: /}}
  Good:
    Type: AWS::Events::Rule
    Properties:
      State: DISABLED
      EventPattern: {detail: {arn: [!Ref Machine]}}
      Targets: [{Id: a, Arn: !Ref Machine, RoleArn: !GetAtt Role.Arn}]
  Bad:
    Type: AWS::Events::Rule
    Properties:
      EventPattern: {source: [!Sub "${AWS::Region}"]}
      Targets: []
"#;
    let template = Template::parse(text).unwrap();
    let refs = BTreeMap::from([("Machine".to_string(), "arn:m".to_string())]);
    let error = template.rules(&refs).unwrap_err().to_string();
    assert!(
        error.contains("Resources.Bad.Properties.EventPattern.source[0]"),
        "{error}"
    );
    assert!(error.contains("!Sub"), "{error}");

    let good = Template::parse(&text.replace("!Sub", "!Ref")).unwrap();
    let unresolved = good.rules(&refs).unwrap_err().to_string();
    assert!(unresolved.contains("!Ref ${AWS::Region}"), "{unresolved}");

    let template = Template::parse(&text.replace(r#"!Sub "${AWS::Region}""#, "aws.x")).unwrap();
    let rules = template.rules(&refs).unwrap();
    let good = rules.iter().find(|r| r.name == "Good").expect("the rule");
    assert_eq!(good.pattern, json!({"detail": {"arn": ["arn:m"]}}));
    assert_eq!(
        (good.enabled, good.targets.clone()),
        (false, vec![Target::StateMachine("arn:m".into())])
    );
    assert!(
        template.rules(&BTreeMap::new()).is_err(),
        "an unknown resource is not guessed"
    );
    assert_eq!(
        template.schedules().unwrap(),
        [ScheduleDefinition {
            name: "FnTick".into(),
            function: "fn".into(),
            expression: "rate(2 hours)".into(),
            rate: Duration::from_secs(7_200),
        }]
    );
    assert_eq!(
        template.functions().unwrap(),
        [FunctionDefinition {
            logical_id: "Fn".into(),
            binary: "one".into(),
            function: "fn".into(),
        }]
    );
    assert_eq!(template.definition_uri("Machine").unwrap(), "statemachine/x.asl.json");
    assert!(template.definition_uri("Fn").is_err());
}

/// Both forms of a rule, each with a function target: a standalone rule's `!GetAtt <Function>.Arn`
/// (string or list form) and a function's `CloudWatchEvent`; what cannot be delivered as written
/// is refused with its path.
#[test]
fn rules_target_functions_by_getatt_and_by_their_own_events() {
    let text = r#"
Resources:
  Machine:
    Type: AWS::Serverless::StateMachine
    Properties: {DefinitionUri: statemachine/x.asl.json}
  Rollback:
    Type: AWS::Serverless::Function
    Properties:
      Environment: {Variables: {EFS_WORKFLOW_FUNCTION: rollback}}
      Events:
        Ended:
          Type: CloudWatchEvent
          Properties: {Enabled: false, Pattern: {source: [aws.states], detail: {stateMachineArn: [!Ref Machine]}}}
        Tick: {Type: Schedule, Properties: {Schedule: rate(1 day)}}
  Both:
    Type: AWS::Events::Rule
    Properties:
      EventPattern: {source: [aws.eks]}
      Targets:
        - {Id: a, Arn: !GetAtt Rollback.Arn}
        - {Id: b, Arn: !GetAtt [Rollback, Arn]}
        - {Id: c, Arn: !Ref Machine}
"#;
    let refs = BTreeMap::from([("Machine".to_string(), "arn:m".to_string())]);
    let rules = Template::parse(text).unwrap().rules(&refs).unwrap();
    assert_eq!(
        rules,
        [
            RuleDefinition {
                name: "Both".into(),
                pattern: json!({"source": ["aws.eks"]}),
                enabled: true,
                targets: vec![
                    Target::Function(Function::Rollback),
                    Target::Function(Function::Rollback),
                    Target::StateMachine("arn:m".into()),
                ],
            },
            RuleDefinition {
                name: "RollbackEnded".into(),
                pattern: json!({"source": ["aws.states"], "detail": {"stateMachineArn": ["arn:m"]}}),
                enabled: false,
                targets: vec![Target::Function(Function::Rollback)],
            },
        ]
    );

    for (from, to, at) in [
        ("!GetAtt Rollback.Arn}", "!GetAtt Machine.Arn}", "Resources.Machine"),
        (
            "!GetAtt Rollback.Arn}",
            "!GetAtt Rollback.Name}",
            "Resources.Both.Properties.Targets[0].Arn",
        ),
        (
            "{Id: c, Arn: !Ref Machine}",
            "{Id: c, Arn: !Ref Machine, InputPath: $.detail}",
            "Resources.Both.Properties.Targets[2].InputPath",
        ),
        (
            "EFS_WORKFLOW_FUNCTION: rollback",
            "EFS_WORKFLOW_FUNCTION: nope",
            "Resources.Rollback.Properties.Environment.Variables",
        ),
        (
            "{Enabled: false, Pattern:",
            "{Enabled: false, Input: '{}', Pattern:",
            "Resources.Rollback.Properties.Events.Ended.Properties.Input",
        ),
        (
            "{Enabled: false, Pattern:",
            "{State: OFF, Pattern:",
            "Resources.Rollback.Properties.Events.Ended.Properties.State",
        ),
    ] {
        let error = Template::parse(&text.replace(from, to))
            .unwrap()
            .rules(&refs)
            .unwrap_err()
            .to_string();
        assert!(error.contains(at), "{to}: {error}");
    }
}

#[test]
fn every_tag_keys_condition_allows_exactly_the_keys_the_workflow_tags_with() {
    use efs_fargate_core::ownership::TAG_KEYS;
    let template = Template::load_repo().unwrap();
    let mut lists = 0;
    for role in template.function_roles().unwrap().keys() {
        let documents = template.role_documents(role, &BTreeMap::new()).unwrap();
        for statement in documents.iter().flat_map(|d| d["Statement"].as_array().unwrap()) {
            for (operator, keys) in statement["Condition"].as_object().into_iter().flatten() {
                let Some(allowed) = keys.get("aws:TagKeys") else {
                    continue;
                };
                assert_eq!(operator, "ForAllValues:StringEquals", "{role}: {statement}");
                let mut allowed: Vec<&str> = allowed.as_array().unwrap().iter().filter_map(|k| k.as_str()).collect();
                let mut expected = TAG_KEYS.to_vec();
                allowed.sort_unstable();
                expected.sort_unstable();
                assert_eq!(allowed, expected, "{role} {}", statement["Sid"]);
                lists += 1;
            }
        }
    }
    // Access entries, Fargate profiles, KMS keys, collector roles.
    assert_eq!(lists, 4);
}
