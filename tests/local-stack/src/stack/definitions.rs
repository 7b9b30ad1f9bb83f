//! The state machine definitions the stack creates in moto: the ASL files `template.yaml` points
//! at, with the substitutions its `DefinitionSubstitutions` make.

use std::path::Path;

use efs_fargate_core::functions::Function;
use workflow_tests::{ACCOUNT_ID, REGION};

use super::StackError;

pub fn state_machine_arn(name: &str) -> String {
    format!("arn:aws:states:{REGION}:{ACCOUNT_ID}:stateMachine:{name}")
}

pub fn function_arn(function: Function) -> String {
    format!("arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{}", function.name())
}

/// Fills `${XFunctionArn}` the way `DefinitionSubstitutions` in `template.yaml` does, and refuses a
/// definition with a placeholder left over.
pub fn substitute(path: &Path) -> Result<String, StackError> {
    let error = |message: String| StackError::Definition {
        path: path.to_path_buf(),
        message,
    };
    let mut text = std::fs::read_to_string(path).map_err(|e| error(e.to_string()))?;
    for function in Function::ALL {
        text = text.replace(&function.arn_placeholder(), &function_arn(function));
    }
    match text.find("${") {
        Some(at) => Err(error(format!(
            "unknown substitution at byte {at}: {}",
            &text[at..(at + 40).min(text.len())]
        ))),
        None => Ok(text),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    #[test]
    fn both_definitions_are_fully_substituted() {
        for file in ["provision.asl.json", "cleanup.asl.json"] {
            let path = workflow_tests::server::repo_root().join("statemachine").join(file);
            let text = substitute(&path).unwrap();
            assert!(text.contains(":function:"), "{file}");
            serde_json::from_str::<Value>(&text).unwrap();
        }
    }
}
