//! Secrets as the API server stores them: `stringData` is a write-only convenience folded into
//! `data` (base64), so reads never show it.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::Value;

use crate::api::status::ApiError;

/// Moves each `stringData` entry into `data`, where it wins over an entry of the same key.
pub fn fold_string_data(mut secret: Value) -> Result<Value, ApiError> {
    let Some(fields) = secret.as_object_mut() else {
        return Ok(secret);
    };
    let Some(string_data) = fields.remove("stringData") else {
        return Ok(secret);
    };
    let Value::Object(string_data) = string_data else {
        return Err(ApiError::bad_request(
            "the body is not a valid Secret: stringData must be a map",
        ));
    };
    let data = fields
        .entry("data")
        .or_insert_with(|| Value::Object(Default::default()));
    if !data.is_object() {
        *data = Value::Object(Default::default());
    }
    for (key, value) in string_data {
        let Value::String(text) = value else {
            return Err(ApiError::bad_request(format!(
                "the body is not a valid Secret: stringData.{key} must be a string"
            )));
        };
        data[key] = Value::String(STANDARD.encode(text));
    }
    Ok(secret)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn string_data_becomes_base64_data() {
        let secret = json!({"data": {"a": "eA==", "b": "eQ=="}, "stringData": {"b": "z"}});
        assert_eq!(
            fold_string_data(secret).unwrap(),
            json!({"data": {"a": "eA==", "b": "eg=="}})
        );
        assert!(fold_string_data(json!({"stringData": {"a": 1}})).is_err());
    }
}
