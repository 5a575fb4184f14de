//! The value shapes the config accepts beyond plain serde: whole numbers and booleans also as
//! strings (what `${VAR}` substitution produces), one value or a list, a port. Written once here
//! and used by every key of the model.
//!
//! These are hand-written rather than `serde_with`'s `PickFirst`/`OneOrMany`: those answer a
//! value that fits neither shape with "PickFirst could not deserialize data", where an operator
//! needs "expected a whole number ≥ 0, got -1".

use std::fmt;
use std::str::FromStr;

use serde::de::{self, DeserializeOwned, Error as _};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

/// What a JSON value is, for messages (`a list`, `a mapping`…).
pub(crate) fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}

/// A whole number ≥ 0 written as a number or a string (`"8080"`, after `${PORT}`).
pub(crate) fn whole_number<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: TryFrom<u64> + FromStr,
{
    let expected = |got: &dyn fmt::Display| {
        D::Error::custom(format!("expected a whole number ≥ 0, got {got}"))
    };
    let too_large = |n: u64| D::Error::custom(format!("{n} is too large"));
    match Value::deserialize(d)? {
        Value::Number(n) => {
            let n = n.as_u64().ok_or_else(|| expected(&n))?;
            T::try_from(n).map_err(|_| too_large(n))
        }
        Value::String(s) => s
            .trim()
            .parse::<u64>()
            .map_err(|_| expected(&format!("\"{s}\"")))
            .and_then(|n| T::try_from(n).map_err(|_| too_large(n))),
        other => Err(expected(&kind_of(&other))),
    }
}

/// [`whole_number`] for an optional key (`null` is absent).
pub(crate) fn optional_whole_number<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: TryFrom<u64> + FromStr,
{
    match Value::deserialize(d)? {
        Value::Null => Ok(None),
        value => whole_number(value).map(Some).map_err(D::Error::custom),
    }
}

/// `true`/`false`, also as a string (after `${VAR}` substitution).
pub(crate) fn boolean<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    match Value::deserialize(d)? {
        Value::Bool(b) => Ok(b),
        Value::String(s) if s.trim().eq_ignore_ascii_case("true") => Ok(true),
        Value::String(s) if s.trim().eq_ignore_ascii_case("false") => Ok(false),
        other => Err(D::Error::custom(format!(
            "expected true or false, got {other}"
        ))),
    }
}

/// A port, `0`–`65535`, as a number or a string.
pub(crate) fn port<'de, D: Deserializer<'de>>(d: D) -> Result<u16, D::Error> {
    let value = Value::deserialize(d)?;
    let text = match &value {
        Value::String(s) => s.trim().to_owned(),
        other => other.to_string(),
    };
    text.parse::<u16>()
        .map_err(|_| D::Error::custom(format!("`{text}` is not a port number (0-65535)")))
}

/// `x` or `[x, y]` in YAML; always a list once read (and when shown).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OneOrMany<T>(pub Vec<T>);

impl<'de, T: DeserializeOwned> Deserialize<'de> for OneOrMany<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match Value::deserialize(d)? {
            Value::Array(items) => items
                .into_iter()
                .map(|v| T::deserialize(v).map_err(D::Error::custom))
                .collect::<Result<_, _>>()
                .map(OneOrMany),
            one => T::deserialize(one)
                .map(|t| OneOrMany(vec![t]))
                .map_err(D::Error::custom),
        }
    }
}

impl<T: Serialize> Serialize for OneOrMany<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

impl<T: schemars::JsonSchema> schemars::JsonSchema for OneOrMany<T> {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        format!("OneOrMany_{}", T::schema_name()).into()
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let item = generator.subschema_for::<T>();
        schemars::json_schema!({ "anyOf": [item, { "type": "array", "items": item }] })
    }
}

/// Deserializes a value that may be written as a string form or a mapping: strings go to
/// `from_str`, mappings to `M`'s derived (path-tracking) `Deserialize`.
pub(crate) fn string_or_map<'de, D, T, M>(
    d: D,
    expecting: &'static str,
    from_str: fn(&str) -> Result<T, String>,
) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    M: Deserialize<'de> + Into<T>,
{
    struct Visit<T, M> {
        expecting: &'static str,
        from_str: fn(&str) -> Result<T, String>,
        map: std::marker::PhantomData<M>,
    }
    impl<'de, T, M: Deserialize<'de> + Into<T>> de::Visitor<'de> for Visit<T, M> {
        type Value = T;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str(self.expecting)
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<T, E> {
            (self.from_str)(v).map_err(E::custom)
        }
        fn visit_map<A: de::MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
            M::deserialize(de::value::MapAccessDeserializer::new(map)).map(Into::into)
        }
        // Anything else: "expected …, got a number" (serde's own message quotes the value).
        fn visit_u64<E: de::Error>(self, _: u64) -> Result<T, E> {
            Err(self.got("a number"))
        }
        fn visit_i64<E: de::Error>(self, _: i64) -> Result<T, E> {
            Err(self.got("a number"))
        }
        fn visit_f64<E: de::Error>(self, _: f64) -> Result<T, E> {
            Err(self.got("a number"))
        }
        fn visit_bool<E: de::Error>(self, _: bool) -> Result<T, E> {
            Err(self.got("a boolean"))
        }
        fn visit_seq<A: de::SeqAccess<'de>>(self, _: A) -> Result<T, A::Error> {
            Err(self.got("a list"))
        }
    }
    impl<T, M> Visit<T, M> {
        fn got<E: de::Error>(&self, kind: &str) -> E {
            E::custom(format!("expected {}, got {kind}", self.expecting))
        }
    }
    d.deserialize_any(Visit {
        expecting,
        from_str,
        map: std::marker::PhantomData::<M>,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[derive(Deserialize, Debug)]
    struct N {
        #[serde(deserialize_with = "whole_number")]
        n: u16,
    }

    #[test]
    fn numbers_from_numbers_and_strings() {
        let n = |v: Value| serde_json::from_value::<N>(json!({ "n": v })).map(|n| n.n);
        assert_eq!(n(json!(7)).unwrap(), 7);
        assert_eq!(n(json!(" 8 ")).unwrap(), 8);
        assert!(
            n(json!(-1))
                .unwrap_err()
                .to_string()
                .contains("≥ 0, got -1")
        );
        assert!(
            n(json!(70000))
                .unwrap_err()
                .to_string()
                .contains("too large")
        );
        assert!(n(json!([1])).unwrap_err().to_string().contains("a list"));
    }

    #[test]
    fn one_or_many() {
        let v: OneOrMany<String> = serde_json::from_value(json!("a")).unwrap();
        assert_eq!(v.0, ["a"]);
        let v: OneOrMany<String> = serde_json::from_value(json!(["a", "b"])).unwrap();
        assert_eq!(serde_json::to_value(&v).unwrap(), json!(["a", "b"]));
    }
}
