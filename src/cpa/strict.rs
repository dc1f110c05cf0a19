//! One pass over a JSON document before it is decoded: it rejects a key given
//! twice in one object, anywhere in the document (a decoder keeps the last one
//! silently, and a repeated `runType` would decide whether a run is a dry
//! run), and tells the caller the document's top-level shape. Nothing is
//! copied but the top-level keys and, on error, the path to the repeated key.

use std::borrow::Cow;
use std::collections::HashSet;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

/// The top level of a JSON document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Shape {
    /// An object, with its keys in document order.
    Object(Vec<String>),
    /// An array.
    Array,
    /// A string.
    String,
    /// A number.
    Number,
    /// `true` or `false`.
    Bool,
    /// `null`.
    Null,
}

impl Shape {
    /// True for an object holding `key`.
    pub fn has_key(&self, key: &str) -> bool {
        matches!(self, Shape::Object(keys) if keys.iter().any(|k| k == key))
    }

    /// The top-level keys for a message, sorted, or what the document is
    /// instead of an object.
    pub fn describe_keys(&self) -> String {
        match self {
            Shape::Object(keys) if keys.is_empty() => "none".into(),
            Shape::Object(keys) => {
                let mut keys = keys.clone();
                keys.sort();
                keys.join(", ")
            }
            Shape::Array => "none, it is an array".into(),
            Shape::String => "none, it is a string".into(),
            Shape::Number => "none, it is a number".into(),
            Shape::Bool => "none, it is a boolean".into(),
            Shape::Null => "none, it is null".into(),
        }
    }
}

/// Why a document was rejected.
#[derive(Debug)]
pub enum ScanError {
    /// Not JSON, or more than one document.
    Json(serde_json::Error),
    /// A key given twice in one object.
    Duplicate {
        /// The JSON path of the repeated key, e.g. `metrics[0].resource`.
        path: String,
        /// 1-based line just after the repeated key.
        line: usize,
        /// 1-based column just after the repeated key.
        column: usize,
    },
}

/// Checks that `input` is one JSON document with each key at most once per
/// object, and returns its top-level shape.
pub fn scan(input: &[u8]) -> Result<Shape, ScanError> {
    let mut repeated = None;
    let mut de = serde_json::Deserializer::from_slice(input);
    let walk = Walk {
        repeated: &mut repeated,
        top: true,
    };
    let result = walk
        .deserialize(&mut de)
        .and_then(|shape| de.end().map(|()| shape));
    match (result, repeated) {
        (Ok(shape), _) => Ok(shape),
        (Err(err), Some(mut path)) => {
            path.reverse();
            Err(ScanError::Duplicate {
                path: path.concat(),
                line: err.line(),
                column: err.column(),
            })
        }
        (Err(err), None) => Err(ScanError::Json(err)),
    }
}

/// Visits one value. On a repeated key it fills `repeated` with the path's
/// segments, innermost first, each ancestor adding its own on the way out.
struct Walk<'a> {
    repeated: &'a mut Option<Vec<String>>,
    top: bool,
}

impl<'de> DeserializeSeed<'de> for Walk<'_> {
    type Value = Shape;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Shape, D::Error> {
        deserializer.deserialize_any(self)
    }
}

/// The keys of one object seen so far: a short list, a set once it is long.
#[derive(Default)]
struct Seen<'de> {
    few: Vec<Cow<'de, str>>,
    many: HashSet<Cow<'de, str>>,
}

impl<'de> Seen<'de> {
    const FEW: usize = 16;

    /// Adds `key`; false when it was already there.
    fn insert(&mut self, key: Cow<'de, str>) -> bool {
        if self.many.is_empty() && self.few.len() < Self::FEW {
            if self.few.contains(&key) {
                return false;
            }
            self.few.push(key);
            return true;
        }
        if self.many.is_empty() {
            self.many.extend(self.few.drain(..));
        }
        self.many.insert(key)
    }
}

impl<'de> Visitor<'de> for Walk<'_> {
    type Value = Shape;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Shape, A::Error> {
        let mut seen = Seen::default();
        let mut keys = Vec::new();
        while let Some(key) = map.next_key_seed(KeySeed)? {
            let segment = |key: &str| {
                if self.top {
                    key.to_owned()
                } else {
                    format!(".{key}")
                }
            };
            if !seen.insert(key.clone()) {
                *self.repeated = Some(vec![segment(&key)]);
                return Err(de::Error::custom("a key is given twice"));
            }
            let walk = Walk {
                repeated: self.repeated,
                top: false,
            };
            if let Err(err) = map.next_value_seed(walk) {
                if let Some(path) = self.repeated.as_mut() {
                    path.push(segment(&key));
                }
                return Err(err);
            }
            if self.top {
                keys.push(key.into_owned());
            }
        }
        Ok(Shape::Object(keys))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Shape, A::Error> {
        let mut index = 0usize;
        loop {
            let walk = Walk {
                repeated: self.repeated,
                top: false,
            };
            match seq.next_element_seed(walk) {
                Ok(Some(_)) => index += 1,
                Ok(None) => return Ok(Shape::Array),
                Err(err) => {
                    if let Some(path) = self.repeated.as_mut() {
                        path.push(format!("[{index}]"));
                    }
                    return Err(err);
                }
            }
        }
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<Shape, E> {
        Ok(Shape::String)
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Shape, E> {
        Ok(Shape::Bool)
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Shape, E> {
        Ok(Shape::Number)
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Shape, E> {
        Ok(Shape::Number)
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Shape, E> {
        Ok(Shape::Number)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Shape, E> {
        Ok(Shape::Null)
    }
}

/// An object key, borrowed from the input when it has no escapes.
struct KeySeed;

impl<'de> DeserializeSeed<'de> for KeySeed {
    type Value = Cow<'de, str>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeySeed {
    type Value = Cow<'de, str>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object key")
    }

    fn visit_borrowed_str<E: de::Error>(self, key: &'de str) -> Result<Self::Value, E> {
        Ok(Cow::Borrowed(key))
    }

    fn visit_str<E: de::Error>(self, key: &str) -> Result<Self::Value, E> {
        Ok(Cow::Owned(key.to_owned()))
    }

    fn visit_string<E: de::Error>(self, key: String) -> Result<Self::Value, E> {
        Ok(Cow::Owned(key))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn repeated(input: &str) -> String {
        match scan(input.as_bytes()) {
            Err(ScanError::Duplicate { path, line, column }) => {
                format!("{path} at {line}:{column}")
            }
            other => panic!("{input}: {other:?}"),
        }
    }

    #[test]
    fn a_key_given_twice_anywhere_is_found_with_its_path() {
        let cases = [
            (
                r#"{"runType": "api_dry_run", "runType": "scaler"}"#,
                "runType at 1:36",
            ),
            (r#"{"a": [1, {"b": {"c": 1, "c": 2}}]}"#, "a[1].b.c at 1:28"),
            (
                r#"{"requests": {"GET /": {}, "GET /": {}}}"#,
                "requests.GET / at 1:34",
            ),
            (r#"{"k\u0065y": 1, "key": 2}"#, "key at 1:21"),
        ];
        for (input, want) in cases {
            assert_eq!(repeated(input), want, "{input}");
        }
    }

    #[test]
    fn a_long_object_is_checked_past_its_first_keys() {
        let mut keys: Vec<String> = (0..100).map(|i| format!("\"k{i}\": {i}")).collect();
        assert!(
            matches!(scan(format!("{{{}}}", keys.join(",")).as_bytes()), Ok(Shape::Object(k)) if k.len() == 100)
        );
        keys.push("\"k3\": 0".into());
        assert!(repeated(&format!("{{{}}}", keys.join(","))).starts_with("k3 at"));
        keys.pop();
        keys.push("\"k99\": 0".into());
        assert!(repeated(&format!("{{{}}}", keys.join(","))).starts_with("k99 at"));
    }

    #[test]
    fn the_shape_is_the_top_level_type_and_keys() {
        assert_eq!(
            scan(b" {\"b\": 1, \"a\": {\"x\": 1}} ").unwrap(),
            Shape::Object(vec!["b".into(), "a".into()])
        );
        assert_eq!(
            scan(b"{\"b\": 1, \"a\": 2}").unwrap().describe_keys(),
            "a, b"
        );
        assert_eq!(scan(b"[{\"a\": 1}]").unwrap(), Shape::Array);
        assert_eq!(
            scan(b"\"x\"").unwrap().describe_keys(),
            "none, it is a string"
        );
        assert_eq!(scan(b"null").unwrap(), Shape::Null);
        assert!(matches!(scan(b""), Err(ScanError::Json(_))));
        assert!(matches!(scan(b"{} {}"), Err(ScanError::Json(_))));
    }
}
