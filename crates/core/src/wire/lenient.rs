//! Lenient readers for the fields of a server's replies and errors
//! (`code`, `id`, `msg`, `success`), for `#[serde(default,
//! deserialize_with = "…")]`.
//!
//! A reply whose `code` is a string, or whose `id` is an object, is still a
//! reply: the field reads as `None` (or, for a number in a string, as the
//! number) instead of failing the whole frame as malformed, so an error
//! frame is still seen as an error. Values of the wrong type are skipped
//! without being buffered.

use serde::Deserializer;
use serde::de::{self, IgnoredAny, MapAccess, SeqAccess, Visitor};
use std::borrow::Cow;
use std::fmt;

/// What a lenient field can be read as.
trait Lenient: Sized {
    /// What the field is, for serde's messages.
    const EXPECTING: &'static str;
    fn from_i64(_: i64) -> Option<Self> {
        None
    }
    fn from_u64(_: u64) -> Option<Self> {
        None
    }
    fn from_str(_: &str) -> Option<Self> {
        None
    }
    fn from_bool(_: bool) -> Option<Self> {
        None
    }
}

impl Lenient for i64 {
    const EXPECTING: &'static str = "an integer, or a string holding one";
    fn from_i64(v: i64) -> Option<Self> {
        Some(v)
    }
    fn from_u64(v: u64) -> Option<Self> {
        i64::try_from(v).ok()
    }
    fn from_str(v: &str) -> Option<Self> {
        v.trim().parse().ok()
    }
}

impl Lenient for u64 {
    const EXPECTING: &'static str = "a non-negative integer, or a string holding one";
    fn from_i64(v: i64) -> Option<Self> {
        u64::try_from(v).ok()
    }
    fn from_u64(v: u64) -> Option<Self> {
        Some(v)
    }
    fn from_str(v: &str) -> Option<Self> {
        v.trim().parse().ok()
    }
}

impl Lenient for bool {
    const EXPECTING: &'static str = "a boolean, or \"true\"/\"false\"";
    fn from_bool(v: bool) -> Option<Self> {
        Some(v)
    }
    fn from_str(v: &str) -> Option<Self> {
        v.trim().parse().ok()
    }
}

impl Lenient for String {
    const EXPECTING: &'static str = "a string, a number or a boolean";
    fn from_i64(v: i64) -> Option<Self> {
        Some(v.to_string())
    }
    fn from_u64(v: u64) -> Option<Self> {
        Some(v.to_string())
    }
    fn from_str(v: &str) -> Option<Self> {
        Some(v.to_owned())
    }
    fn from_bool(v: bool) -> Option<Self> {
        Some(v.to_string())
    }
}

struct LenientVisitor<T>(std::marker::PhantomData<T>);

impl<'de, T: Lenient> Visitor<'de> for LenientVisitor<T> {
    type Value = Option<T>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(T::EXPECTING)
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok(T::from_i64(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(T::from_u64(v))
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(T::from_str(v))
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
        Ok(T::from_bool(v))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(None)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(None)
    }
}

fn lenient<'de, T: Lenient, D: Deserializer<'de>>(d: D) -> Result<Option<T>, D::Error> {
    d.deserialize_any(LenientVisitor(std::marker::PhantomData))
}

/// An integer field (`code`): a number or a string holding one; anything
/// else (a float, an object, …) reads as `None`.
pub fn lenient_i64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    lenient(d)
}

/// A non-negative integer field (a request `id`), read as
/// [`lenient_i64`] is.
pub fn lenient_u64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    lenient(d)
}

/// A boolean field (`success`): a boolean or `"true"`/`"false"`; anything
/// else reads as `None`.
pub fn lenient_bool<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    lenient(d)
}

/// A text field (`msg`): a string, or a number or boolean as its text; an
/// object or a list reads as `None`.
pub fn lenient_text<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    lenient(d)
}

/// A text field that borrows from the input when it can (`ret_msg`,
/// `req_id`): a string, or a number or boolean as its text; an object or a
/// list reads as `None`.
pub fn lenient_borrowed<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<Cow<'de, str>>, D::Error> {
    d.deserialize_any(BorrowedText)
}

struct BorrowedText;

impl<'de> Visitor<'de> for BorrowedText {
    type Value = Option<Cow<'de, str>>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(String::EXPECTING)
    }
    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Some(Cow::Borrowed(v)))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Some(Cow::Owned(v.to_owned())))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok(String::from_i64(v).map(Cow::Owned))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(String::from_u64(v).map(Cow::Owned))
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
        Ok(String::from_bool(v).map(Cow::Owned))
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        LenientVisitor::<String>(std::marker::PhantomData)
            .visit_seq(seq)
            .map(|_| None)
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        LenientVisitor::<String>(std::marker::PhantomData)
            .visit_map(map)
            .map(|_| None)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use serde::Deserialize;

    #[derive(Debug, Deserialize, PartialEq)]
    struct Reply {
        #[serde(default, deserialize_with = "super::lenient_i64")]
        code: Option<i64>,
        #[serde(default, deserialize_with = "super::lenient_u64")]
        id: Option<u64>,
        #[serde(default, deserialize_with = "super::lenient_text")]
        msg: Option<String>,
        #[serde(default, deserialize_with = "super::lenient_bool")]
        success: Option<bool>,
    }

    #[derive(Debug, Deserialize)]
    struct Borrowing<'a> {
        #[serde(borrow, default, deserialize_with = "super::lenient_borrowed")]
        req_id: Option<std::borrow::Cow<'a, str>>,
    }

    #[test]
    fn borrowed_text_borrows_a_plain_string_and_reads_numbers_as_text() {
        let r: Borrowing = serde_json::from_str(r#"{"req_id":"sub-1"}"#).unwrap();
        assert!(matches!(
            r.req_id,
            Some(std::borrow::Cow::Borrowed("sub-1"))
        ));
        let r: Borrowing = serde_json::from_str(r#"{"req_id":17}"#).unwrap();
        assert_eq!(r.req_id.as_deref(), Some("17"));
        let r: Borrowing = serde_json::from_str(r#"{"req_id":{"a":"b"}}"#).unwrap();
        assert_eq!(r.req_id, None);
    }

    fn read(json: &str) -> Reply {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn right_types_read_as_themselves() {
        let r = read(r#"{"code":-1003,"id":7,"msg":"too many","success":false}"#);
        assert_eq!(
            (r.code, r.id, r.success),
            (Some(-1003), Some(7), Some(false))
        );
        assert_eq!(r.msg.as_deref(), Some("too many"));
    }

    #[test]
    fn numbers_in_strings_and_texts_as_numbers_are_read() {
        let r = read(r#"{"code":"429","id":" 12 ","msg":404,"success":"true"}"#);
        assert_eq!((r.code, r.id, r.success), (Some(429), Some(12), Some(true)));
        assert_eq!(r.msg.as_deref(), Some("404"));
    }

    #[test]
    fn wrong_types_read_as_none_and_the_rest_of_the_frame_survives() {
        let r =
            read(r#"{"code":{"a":[1,{"b":2}]},"id":[1,2],"msg":{"x":1},"success":3.5,"other":1}"#);
        assert_eq!(
            r,
            Reply {
                code: None,
                id: None,
                msg: None,
                success: None
            }
        );
        let r = read(r#"{"code":1.5,"id":-4,"msg":null,"success":"maybe"}"#);
        assert_eq!(
            r,
            Reply {
                code: None,
                id: None,
                msg: None,
                success: None
            }
        );
        let r = read(r#"{"code":"x","id":"18446744073709551616"}"#);
        assert_eq!((r.code, r.id), (None, None));
    }
}
