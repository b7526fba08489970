//! The Parquet quotes file's schema, its metadata and footers: what the
//! writer ([`parquet`](super::parquet)) and the reader and repair
//! ([`parquet_read`](super::parquet_read)) share.

use super::RecordError;
use ::parquet::basic::{Compression, ZstdLevel};
use ::parquet::errors::ParquetError;
use ::parquet::file::metadata::{
    FileMetaData, KeyValue, ParquetMetaDataBuilder, ParquetMetaDataWriter, RowGroupMetaData,
};
use ::parquet::file::properties::{EnabledStatistics, WriterProperties};
use ::parquet::schema::parser::parse_message_type;
use ::parquet::schema::types::{ColumnPath, SchemaDescriptor, Type};
use mercury_core::Price;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The suffix of a row-group footer sidecar (after `NAME.parquet.partial`).
pub const FOOTER_SUFFIX: &str = "footer";

/// The schema (version 1; see [`parquet`](super::parquet)), as Parquet's message type.
pub const SCHEMA: &str = "message quote {
  REQUIRED INT64 seq;
  REQUIRED INT64 conn;
  REQUIRED INT64 conn_seq;
  REQUIRED BYTE_ARRAY exchange (STRING);
  REQUIRED BYTE_ARRAY symbol (STRING);
  REQUIRED BYTE_ARRAY kind (STRING);
  REQUIRED FIXED_LEN_BYTE_ARRAY (16) price (DECIMAL(38,18));
  OPTIONAL INT64 exchange_time (TIMESTAMP(NANOS,true));
  REQUIRED INT64 received_at (TIMESTAMP(NANOS,true));
  REQUIRED BOOLEAN after_gap;
}";
/// The value of the `mercury.schema_version` key.
pub const SCHEMA_VERSION: &str = "1";
/// The key-value metadata key of the schema version.
pub const SCHEMA_VERSION_KEY: &str = "mercury.schema_version";
/// Decimal places of `price`.
pub const PRICE_SCALE: u32 = 18;

/// `price` as the unscaled value of a DECIMAL(38, 18): exact, or `None`
/// if it needs more than 18 decimal places or more than 38 digits.
pub fn decimal_38_18(price: &Price) -> Option<i128> {
    let decimal = price.as_decimal();
    let (mantissa, scale) = (decimal.mantissa(), decimal.scale());
    let scaled = if scale <= PRICE_SCALE {
        mantissa.checked_mul(10i128.checked_pow(PRICE_SCALE - scale)?)?
    } else {
        let factor = 10i128.checked_pow(scale - PRICE_SCALE)?;
        // Only trailing zeros may go.
        if mantissa % factor != 0 {
            return None;
        }
        mantissa / factor
    };
    (scaled.unsigned_abs() < 10u128.pow(38)).then_some(scaled)
}

/// The schema, parsed.
pub(crate) fn schema() -> Result<Arc<Type>, ParquetError> {
    parse_message_type(SCHEMA).map(Arc::new)
}

/// The key-value metadata every file carries.
pub(crate) fn key_values() -> Vec<KeyValue> {
    vec![
        KeyValue::new(SCHEMA_VERSION_KEY.to_owned(), SCHEMA_VERSION.to_owned()),
        KeyValue::new(
            "mercury.writer".to_owned(),
            concat!("mercury-collector ", env!("CARGO_PKG_VERSION")).to_owned(),
        ),
    ]
}

pub(crate) fn properties() -> Result<WriterProperties, ParquetError> {
    let mut builder = WriterProperties::builder()
        .set_compression(Compression::ZSTD(ZstdLevel::try_new(3)?))
        .set_dictionary_enabled(false)
        // No page index: a row group's footer is then complete on its own.
        .set_statistics_enabled(EnabledStatistics::Chunk)
        .set_offset_index_disabled(true)
        .set_key_value_metadata(Some(key_values()));
    for name in ["exchange", "symbol", "kind"] {
        builder = builder.set_column_dictionary_enabled(ColumnPath::from(name), true);
    }
    Ok(builder.build())
}

/// The footer of a file made of `writer`'s row groups so far (no page
/// index), as the sidecar holds it after its 8-byte data length.
pub(crate) fn footer_bytes(
    schema: &Arc<Type>,
    row_groups: Vec<RowGroupMetaData>,
    created_by: &str,
) -> Result<Vec<u8>, ParquetError> {
    let rows = row_groups.iter().map(|g| g.num_rows()).sum();
    let descriptor = Arc::new(SchemaDescriptor::new(schema.clone()));
    let file = FileMetaData::new(
        1,
        rows,
        Some(created_by.to_owned()),
        Some(key_values()),
        descriptor,
        None,
    );
    let metadata = ParquetMetaDataBuilder::new(file)
        .set_row_groups(row_groups)
        .build();
    let mut out = Vec::new();
    ParquetMetaDataWriter::new(&mut out, &metadata)
        .with_preserve_page_index_locations(false)
        .finish()?;
    Ok(out)
}

/// The sidecar of `partial`: `NAME.parquet.partial.footer`.
pub fn footer_path(partial: &Path) -> PathBuf {
    let mut name = partial.as_os_str().to_owned();
    name.push(".");
    name.push(FOOTER_SUFFIX);
    PathBuf::from(name)
}

/// Writes the sidecar of `partial` (data length, then the footer) under a
/// temporary name and renames it into place (not fsynced: see
/// [`parquet`](super::parquet), "Crash safety").
pub(crate) fn write_sidecar(
    partial: &Path,
    data_len: u64,
    footer: &[u8],
) -> Result<(), RecordError> {
    use std::io::Write as _;
    let path = footer_path(partial);
    let mut temporary = path.as_os_str().to_owned();
    temporary.push(".tmp");
    let temporary = PathBuf::from(temporary);
    let mut file =
        std::fs::File::create(&temporary).map_err(|e| RecordError::io("create", &temporary, e))?;
    file.write_all(&data_len.to_le_bytes())
        .and_then(|()| file.write_all(footer))
        .map_err(|e| RecordError::io("write", &temporary, e))?;
    std::fs::rename(&temporary, &path).map_err(|e| RecordError::io("rename", &temporary, e))
}
