//! Ids read from JSON bodies (the chat's `conversation_id`, the tools' `task_id`).
//!
//! The OpenAPI document and the tools' JSON schemas say `integer`, and JSON Schema's `integer`
//! is any number without a fractional part, `5809.0` included; serde's `i64` takes only `5809`.
//! So these ids are read as numbers and taken when whole and within 64 bits.

use serde::{Deserialize, Deserializer, de::Error};

/// 2^63: the first whole `f64` past `i64::MAX`.
const PAST_I64: f64 = 9_223_372_036_854_775_808.0;

fn whole(number: &serde_json::Number) -> Option<i64> {
    number.as_i64().or_else(|| {
        number
            .as_f64()
            .filter(|f| f.fract() == 0.0 && (-PAST_I64..PAST_I64).contains(f))
            // Exact: a whole f64 in range converts without rounding.
            .map(|f| f as i64)
    })
}

/// A whole number; `deserialize_with` for an `i64` field.
pub fn required<'de, D: Deserializer<'de>>(deserializer: D) -> Result<i64, D::Error> {
    let number = serde_json::Number::deserialize(deserializer)?;
    whole(&number).ok_or_else(|| D::Error::custom(format!("{number} is not a whole 64-bit number")))
}

/// A whole number or null; `deserialize_with` for an `Option<i64>` field (with `default`).
pub fn optional<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<i64>, D::Error> {
    Option::<serde_json::Number>::deserialize(deserializer)?
        .map(|number| {
            whole(&number)
                .ok_or_else(|| D::Error::custom(format!("{number} is not a whole 64-bit number")))
        })
        .transpose()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[derive(Deserialize)]
    struct Ids {
        #[serde(deserialize_with = "required")]
        id: i64,
        #[serde(default, deserialize_with = "optional")]
        maybe: Option<i64>,
    }

    fn ids(json: &str) -> Result<(i64, Option<i64>), serde_json::Error> {
        serde_json::from_str::<Ids>(json).map(|i| (i.id, i.maybe))
    }

    #[test]
    fn whole_numbers_in_any_notation_are_taken_and_nothing_else() {
        assert_eq!(ids(r#"{"id":5809}"#).unwrap(), (5809, None));
        assert_eq!(
            ids(r#"{"id":5809.0,"maybe":-3.0e2}"#).unwrap(),
            (5809, Some(-300))
        );
        assert_eq!(ids(r#"{"id":1,"maybe":null}"#).unwrap(), (1, None));
        for refused in [
            "5809.5",
            "1e19",
            "18446744073709551615",
            "\"7\"",
            "true",
            "null",
        ] {
            assert!(
                ids(&format!(r#"{{"id":{refused}}}"#)).is_err(),
                "id {refused}"
            );
        }
        for refused in ["5809.5", "1e19", "18446744073709551615", "\"7\"", "true"] {
            assert!(
                ids(&format!(r#"{{"id":1,"maybe":{refused}}}"#)).is_err(),
                "maybe {refused}"
            );
        }
    }
}
