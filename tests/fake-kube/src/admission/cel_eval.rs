//! CEL, evaluated by the `cel` crate over the admission variables.

use std::collections::HashMap;

use serde_json::Value;

/// The objects an admission expression sees (JSON `null` where the API server passes null).
pub struct Inputs {
    pub object: Value,
    pub old_object: Value,
    pub request: Value,
    pub namespace_object: Value,
}

/// A compiled expression, or why it did not compile.
pub struct Program(Result<cel::Program, String>);

/// What an expression gave: admission needs a bool, anything else is an error.
pub enum Evaluation {
    Bool(bool),
    Error(String),
}

impl Program {
    pub fn compile(expression: &str) -> Self {
        Program(cel::Program::compile(expression).map_err(|e| format!("compilation failed: {e}")))
    }

    /// Evaluates to a bool, or an error that says why not.
    pub fn evaluate(&self, inputs: &Inputs, variables: &HashMap<String, cel::Value>) -> Evaluation {
        match self.value(inputs, variables) {
            Ok(cel::Value::Bool(value)) => Evaluation::Bool(value),
            Ok(other) => Evaluation::Error(format!("expected a bool, got {:?}", other.type_of())),
            Err(error) => Evaluation::Error(error),
        }
    }

    fn value(&self, inputs: &Inputs, variables: &HashMap<String, cel::Value>) -> Result<cel::Value, String> {
        let program = self.0.as_ref().map_err(Clone::clone)?;
        let mut context = cel::Context::default();
        for (name, value) in [
            ("object", &inputs.object),
            ("oldObject", &inputs.old_object),
            ("request", &inputs.request),
            ("namespaceObject", &inputs.namespace_object),
        ] {
            context.add_variable_from_value(name, to_cel(value)?);
        }
        context.add_variable_from_value("variables", cel::Value::from(variables.clone()));
        program.execute(&context).map_err(|e| e.to_string())
    }
}

fn to_cel(value: &Value) -> Result<cel::Value, String> {
    cel::to_value(escaped(value)).map_err(|e| format!("can't convert to CEL: {e}"))
}

/// The API server makes a property named after a CEL reserved word reachable as `__<word>__`
/// (`subject.__namespace__`); `namespace` is the one our objects carry. The plain name stays too,
/// for the request's own attributes (`request.namespace`).
fn escaped(value: &Value) -> Value {
    match value {
        Value::Object(object) => {
            let mut escaped: serde_json::Map<String, Value> =
                object.iter().map(|(k, v)| (k.clone(), self::escaped(v))).collect();
            if let Some(namespace) = object.get("namespace") {
                escaped.insert("__namespace__".into(), self::escaped(namespace));
            }
            Value::Object(escaped)
        }
        Value::Array(items) => Value::Array(items.iter().map(self::escaped).collect()),
        other => other.clone(),
    }
}

/// The policy's `variables`, in order (each may use the ones before it). One that fails to
/// evaluate is left out, so only an expression that uses it fails (the API server evaluates them
/// lazily).
pub fn variables(declared: &[Value], inputs: &Inputs) -> HashMap<String, cel::Value> {
    let mut variables = HashMap::new();
    for variable in declared {
        let (Some(name), Some(expression)) = (variable["name"].as_str(), variable["expression"].as_str()) else {
            continue;
        };
        match Program::compile(expression).value(inputs, &variables) {
            Ok(value) => {
                variables.insert(name.to_string(), value);
            }
            Err(error) => tracing::debug!(name, %error, "admission variable not evaluated"),
        }
    }
    variables
}
