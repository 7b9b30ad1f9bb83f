//! The README's picture of the provisioning state machine is generated from the ASL file, and this
//! test fails when the two drift apart. `UPDATE_README_DIAGRAM=1 cargo test -p workflow-tests --test
//! readme_diagram` rewrites it.

use serde_json::Value;
use std::fmt::Write;

const BEGIN: &str = "<!-- diagram: statemachine/provision.asl.json -->\n```mermaid\n";
const END: &str = "```\n<!-- end diagram -->";

fn mermaid(machine: &Value) -> String {
    let mut out = String::from("flowchart TD\n");
    render(machine, &mut out, "  ");
    out
}

fn render(machine: &Value, out: &mut String, indent: &str) {
    for name in flow_order(machine) {
        let state = &machine["States"][&name];
        let shape = match state["Type"].as_str().unwrap_or_default() {
            "Choice" => format!("{name}{{{name}}}"),
            "Wait" => format!("{name}([{name}])"),
            "Succeed" | "Fail" => format!("{name}((({name})))"),
            "Parallel" => format!("{name}[[{name}]]"),
            _ => format!("{name}[{name}]"),
        };
        let _ = writeln!(out, "{indent}{shape}");
        if let Some(next) = state["Next"].as_str() {
            let _ = writeln!(out, "{indent}{name} --> {next}");
        }
        for choice in state["Choices"].as_array().into_iter().flatten() {
            let _ = writeln!(
                out,
                "{indent}{name} -->|{}| {}",
                condition(choice),
                choice["Next"].as_str().unwrap_or_default()
            );
        }
        if let Some(default) = state["Default"].as_str() {
            let _ = writeln!(out, "{indent}{name} -->|otherwise| {default}");
        }
        for catch in state["Catch"].as_array().into_iter().flatten() {
            let _ = writeln!(
                out,
                "{indent}{name} -.->|error| {}",
                catch["Next"].as_str().unwrap_or_default()
            );
        }
        for (index, branch) in state["Branches"].as_array().into_iter().flatten().enumerate() {
            let _ = writeln!(out, "{indent}subgraph {name}_{index} [{name} branch {}]", index + 1);
            render(branch, out, &format!("{indent}  "));
            let _ = writeln!(out, "{indent}end");
            if let Some(start) = branch["StartAt"].as_str() {
                let _ = writeln!(out, "{indent}{name} --> {start}");
            }
        }
    }
}

/// States in the order the flow reaches them from `StartAt` (breadth first), then any others by
/// name: independent of whether serde_json keeps the file's key order (its `preserve_order`
/// feature, which a workspace-wide build may switch on).
fn flow_order(machine: &Value) -> Vec<String> {
    let Some(states) = machine["States"].as_object() else {
        return vec![];
    };
    let mut order: Vec<String> = Vec::new();
    let mut queue: std::collections::VecDeque<String> =
        machine["StartAt"].as_str().map(str::to_string).into_iter().collect();
    while let Some(name) = queue.pop_front() {
        if order.contains(&name) || !states.contains_key(&name) {
            continue;
        }
        let state = &states[&name];
        let targets = [state["Next"].as_str(), state["Default"].as_str()]
            .into_iter()
            .flatten()
            .chain(
                state["Choices"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|c| c["Next"].as_str()),
            )
            .chain(
                state["Catch"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|c| c["Next"].as_str()),
            );
        queue.extend(targets.map(str::to_string));
        order.push(name);
    }
    let mut rest: Vec<String> = states.keys().filter(|k| !order.contains(k)).cloned().collect();
    rest.sort();
    order.extend(rest);
    order
}

/// A short label: `status = ready`, `ready`, `attempt ≥ 40`.
fn condition(choice: &Value) -> String {
    let variable = choice["Variable"]
        .as_str()
        .unwrap_or("?")
        .rsplit('.')
        .next()
        .unwrap_or("?");
    if let Some(value) = choice["StringEquals"].as_str() {
        format!("{variable} = {value}")
    } else if let Some(value) = choice["BooleanEquals"].as_bool() {
        if value {
            variable.to_string()
        } else {
            format!("not {variable}")
        }
    } else if let Some(value) = choice["NumericGreaterThanEquals"].as_i64() {
        format!("{variable} ≥ {value}")
    } else if let Some(all) = choice["And"].as_array() {
        all.iter().map(condition).collect::<Vec<_>>().join(" and ")
    } else {
        variable.to_string()
    }
}

#[test]
fn the_readme_diagram_matches_the_provisioning_state_machine() {
    let root = workflow_tests::server::repo_root();
    let asl: Value =
        serde_json::from_str(&std::fs::read_to_string(root.join("statemachine/provision.asl.json")).unwrap()).unwrap();
    let diagram = mermaid(&asl);
    let readme_path = root.join("README.md");
    let readme = std::fs::read_to_string(&readme_path).unwrap();
    let start = readme.find(BEGIN).expect("README.md has the diagram markers") + BEGIN.len();
    let end = start + readme[start..].find(END).expect("README.md has the end marker");
    if std::env::var_os("UPDATE_README_DIAGRAM").is_some() {
        std::fs::write(&readme_path, format!("{}{diagram}{}", &readme[..start], &readme[end..])).unwrap();
        return;
    }
    assert_eq!(
        readme[start..end],
        diagram,
        "README.md's diagram is stale: run UPDATE_README_DIAGRAM=1 cargo test -p workflow-tests --test readme_diagram"
    );
}
