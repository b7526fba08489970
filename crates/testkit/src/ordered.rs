//! JSON objects with their fields in wire order and their values as raw
//! text, to mutate one field of a real frame and keep every other byte's
//! meaning (exact numbers, key order — BitMEX's one-pass decoder depends on
//! `table` coming first).

use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::value::RawValue;
use std::fmt;

/// A JSON object: `(key, raw value)` in wire order.
#[derive(Debug, Clone)]
pub struct Ordered(pub Vec<(String, Box<RawValue>)>);

impl Ordered {
    /// Parses an object; panics on anything else (test support).
    pub fn parse(text: &str) -> Ordered {
        match serde_json::from_str(text) {
            Ok(object) => object,
            Err(e) => panic!("not a JSON object ({e}): {}", &text[..text.len().min(200)]),
        }
    }

    /// The raw value of `key`.
    pub fn get(&self, key: &str) -> Option<&RawValue> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| &**v)
    }

    /// The object's text with `key` set to `value` (raw JSON), or removed.
    pub fn with(&self, key: &str, value: Option<&str>) -> String {
        let fields = self.0.iter().filter_map(|(k, v)| {
            let v = if k == key { value? } else { v.get() };
            Some(format!("{}:{v}", serde_json::Value::from(k.as_str())))
        });
        format!("{{{}}}", fields.collect::<Vec<_>>().join(","))
    }
}

/// `frame` with `field` of row `row` of its `data` array set or removed.
pub fn with_row_field(frame: &str, row: usize, field: &str, value: Option<&str>) -> String {
    let envelope = Ordered::parse(frame);
    let data = envelope.get("data").map(RawValue::get).unwrap_or("[]");
    let rows: Vec<Ordered> = serde_json::from_str(data).unwrap_or_default();
    let rows: Vec<String> = rows
        .iter()
        .enumerate()
        .map(|(i, r)| {
            if i == row {
                r.with(field, value)
            } else {
                r.with("", None)
            }
        })
        .collect();
    envelope.with("data", Some(&format!("[{}]", rows.join(","))))
}

/// `frame` with `field` of its `data` object set or removed.
pub fn with_data_field(frame: &str, field: &str, value: Option<&str>) -> String {
    let envelope = Ordered::parse(frame);
    let data = Ordered::parse(envelope.get("data").map(RawValue::get).unwrap_or("{}"));
    envelope.with("data", Some(&data.with(field, value)))
}

impl<'de> Deserialize<'de> for Ordered {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Fields;
        impl<'de> Visitor<'de> for Fields {
            type Value = Ordered;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Ordered, A::Error> {
                let mut fields = Vec::new();
                while let Some(entry) = map.next_entry::<String, Box<RawValue>>()? {
                    fields.push(entry);
                }
                Ok(Ordered(fields))
            }
        }
        deserializer.deserialize_map(Fields)
    }
}
