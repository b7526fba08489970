//! Helpers for the exchange crates' typed wire structs.

use serde::{Deserialize, Deserializer};
use std::borrow::Cow;

/// Deserializes an `Option<Cow<str>>` that borrows from the input when it
/// can (no escapes), for `#[serde(borrow, deserialize_with = "…")]`.
///
/// serde borrows a plain `Cow<'a, str>` field marked `#[serde(borrow)]`, but
/// not one inside an `Option`: that one is always copied, one allocation per
/// field per frame on the hot path.
///
/// ```
/// use std::borrow::Cow;
/// #[derive(serde::Deserialize)]
/// struct Row<'a> {
///     #[serde(borrow, default, deserialize_with = "mercury_core::wire::borrowed_option")]
///     symbol: Option<Cow<'a, str>>,
/// }
/// let row: Row = serde_json::from_str(r#"{"symbol":"XBTUSD"}"#).unwrap();
/// assert!(matches!(row.symbol, Some(Cow::Borrowed("XBTUSD"))));
/// let row: Row = serde_json::from_str(r#"{"symbol":"X\u0042T"}"#).unwrap();
/// assert_eq!(row.symbol.as_deref(), Some("XBT"));
/// ```
pub fn borrowed_option<'de, D>(deserializer: D) -> Result<Option<Cow<'de, str>>, D::Error>
where
    D: Deserializer<'de>,
{
    #[derive(Deserialize)]
    struct Borrowed<'a>(#[serde(borrow)] Cow<'a, str>);
    Ok(Option::<Borrowed<'de>>::deserialize(deserializer)?.map(|Borrowed(text)| text))
}
