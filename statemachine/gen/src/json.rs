//! JSON objects that keep the order their keys were written in, whatever serde_json's
//! `preserve_order` feature is in a given build: the generated files stay byte-stable.

use serde::ser::{Serialize, SerializeMap, Serializer};

/// A JSON value as the definitions use it in `Parameters` and `ResultSelector`.
#[derive(Clone, Debug)]
pub enum Json {
    /// `null`: e.g. a cleanup's `runId` when it is not a rollback.
    Null,
    Str(String),
    Int(i64),
    Bool(bool),
    Obj(Obj),
    List(Vec<Json>),
}

/// An object in insertion order.
#[derive(Clone, Debug, Default)]
pub struct Obj(Vec<(String, Json)>);

impl Obj {
    pub fn new() -> Self {
        Self::default()
    }

    /// A literal value.
    pub fn set(mut self, key: &str, value: impl Into<Json>) -> Self {
        self.0.push((key.to_string(), value.into()));
        self
    }

    /// A value Step Functions takes from a path or intrinsic: `"key.$": "path"`.
    pub fn path(self, key: &str, path: &str) -> Self {
        self.set(&format!("{key}.$"), path)
    }

    /// Appends every entry of `other`.
    pub fn extend(mut self, other: Obj) -> Self {
        self.0.extend(other.0);
        self
    }
}

impl From<&str> for Json {
    fn from(value: &str) -> Self {
        Json::Str(value.to_string())
    }
}

impl From<String> for Json {
    fn from(value: String) -> Self {
        Json::Str(value)
    }
}

impl From<i64> for Json {
    fn from(value: i64) -> Self {
        Json::Int(value)
    }
}

impl From<bool> for Json {
    fn from(value: bool) -> Self {
        Json::Bool(value)
    }
}

impl From<Obj> for Json {
    fn from(value: Obj) -> Self {
        Json::Obj(value)
    }
}

impl From<Vec<Json>> for Json {
    fn from(value: Vec<Json>) -> Self {
        Json::List(value)
    }
}

impl Serialize for Json {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Json::Null => serializer.serialize_unit(),
            Json::Str(value) => serializer.serialize_str(value),
            Json::Int(value) => serializer.serialize_i64(*value),
            Json::Bool(value) => serializer.serialize_bool(*value),
            Json::Obj(value) => value.serialize(serializer),
            Json::List(values) => values.serialize(serializer),
        }
    }
}

impl Serialize for Obj {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (key, value) in &self.0 {
            map.serialize_entry(key, value)?;
        }
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_keep_their_order_and_paths_get_the_suffix() {
        let obj = Obj::new()
            .set("z", 1)
            .path("a", "$.a")
            .set("m", Obj::new().set("ok", true));
        assert_eq!(
            serde_json::to_string(&obj).unwrap(),
            r#"{"z":1,"a.$":"$.a","m":{"ok":true}}"#
        );
    }
}
