//! Parquet uploads. The parquet crate sizes its buffers from what a file claims (a page's
//! uncompressed size) and inflates ZSTD pages without a bound, so every page header is read
//! and checked against the budget first, and every ZSTD page inflated once within its
//! claim; only then does the crate read the file.

use bytes::Bytes;
use parquet::arrow::arrow_reader::{
    ArrowReaderMetadata, ArrowReaderOptions, ParquetRecordBatchReaderBuilder,
};
use parquet::basic::{Compression, Type as PhysicalType};
use parquet::file::metadata::ColumnChunkMetaData;

use super::thrift::{self, PageHeader};
use super::{accepted_type, batch_rows, Batches};
use crate::wire::problem::ApiError;

/// Data pages whose values are indices into the chunk's dictionary.
const PLAIN_DICTIONARY: i32 = 2;
const RLE_DICTIONARY: i32 = 8;
/// `DELTA_BYTE_ARRAY` rebuilds each value from a prefix of the one before, so a tiny page
/// can stand for gigabytes; it is refused.
const DELTA_BYTE_ARRAY: i32 = 7;
/// A page larger than this when inflated is refused (writers use 1 MiB).
const MOST_PAGE_BYTES: i64 = 64 << 20;
/// The widest fixed-size value accepted (a 256-bit decimal).
const MOST_FIXED_BYTES: i32 = 32;
/// Groups nested deeper than this are refused before the crate, which recurses on them,
/// reads the schema (the CSV layout is flat: one level is all a usable file has).
pub const MOST_SCHEMA_DEPTH: usize = 16;
const MAGIC: &[u8] = b"PAR1";

/// Opens a Parquet file held whole in `file`, checked to hold at most `most_inflated`
/// bytes inflated and to decode to at most `most_decoded`.
pub fn open(file: Bytes, most_inflated: usize, most_decoded: u64) -> Result<Batches, ApiError> {
    check_footer(&file)?;
    let options = ArrowReaderOptions::new().with_skip_arrow_metadata(true);
    let metadata = ArrowReaderMetadata::load(&file, options).map_err(unreadable)?;
    for (field, column) in metadata
        .schema()
        .fields()
        .iter()
        .zip(metadata.parquet_schema().columns())
    {
        accepted_type(field)?;
        if column.physical_type() == PhysicalType::FIXED_LEN_BYTE_ARRAY
            && column.type_length() > MOST_FIXED_BYTES
        {
            return Err(refused(field.name(), "holds values wider than 32 bytes"));
        }
    }
    if metadata.parquet_schema().num_columns() != metadata.schema().fields().len() {
        return Err(ApiError::field(
            "/",
            "the Parquet file has nested columns; send one flat column per CSV column",
        ));
    }
    let mut checked = Checked {
        most_inflated: most_inflated as u64,
        most_decoded,
        ..Checked::default()
    };
    for group in metadata.metadata().row_groups() {
        for chunk in group.columns() {
            checked.chunk(&file, chunk)?;
        }
    }
    let reader = ParquetRecordBatchReaderBuilder::new_with_metadata(file, metadata.clone())
        .with_batch_size(batch_rows(checked.longest_value))
        .build()
        .map_err(unreadable)?;
    Ok(Batches {
        schema: metadata.schema().clone(),
        batches: Box::new(reader),
    })
}

/// The footer's nesting, read before the crate reads it. A file whose footer cannot be
/// found is left to the crate to refuse.
fn check_footer(file: &[u8]) -> Result<(), ApiError> {
    let Some(tail) = file.len().checked_sub(8).filter(|_| file.ends_with(MAGIC)) else {
        return Ok(());
    };
    let length = u32::from_le_bytes(file[tail..tail + 4].try_into().expect("4 bytes"));
    let Some(start) = tail.checked_sub(length as usize) else {
        return Ok(());
    };
    let depth = thrift::schema_depth(&file[start..tail])
        .map_err(|why| ApiError::field("/", format!("the Parquet footer cannot be read: {why}")))?;
    if depth > MOST_SCHEMA_DEPTH {
        return Err(ApiError::field(
            "/",
            format!(
                "the Parquet schema nests groups {depth} deep, past the limit of {MOST_SCHEMA_DEPTH}; send one flat column per CSV column"
            ),
        ));
    }
    Ok(())
}

/// What the checks found across the file.
#[derive(Default)]
struct Checked {
    most_inflated: u64,
    inflated: u64,
    /// What the file decodes to at most: a page of dictionary indices as every index the
    /// chunk's longest value, any other page as its inflated size.
    most_decoded: u64,
    decoded: u64,
    /// The longest text in any dictionary: a batch's rows may each repeat it.
    longest_value: usize,
    /// The longest text in the dictionary of the chunk being walked.
    chunk_longest: usize,
}

impl Checked {
    /// Walks every page of a column chunk, checking what each header claims.
    fn chunk(&mut self, file: &Bytes, chunk: &ColumnChunkMetaData) -> Result<(), ApiError> {
        let name = chunk.column_descr().name().to_string();
        let codec = chunk.compression();
        if !matches!(
            codec,
            Compression::UNCOMPRESSED
                | Compression::SNAPPY
                | Compression::ZSTD(_)
                | Compression::LZ4_RAW
        ) {
            return Err(refused(
                &name,
                &format!("is compressed with {codec}; send Parquet compressed with SNAPPY, ZSTD, LZ4_RAW or none"),
            ));
        }
        // Where `ColumnChunkMetaData::byte_range` says, without its panic on a bad offset.
        let start = chunk
            .dictionary_page_offset()
            .unwrap_or(chunk.data_page_offset());
        let (start, end) = u64::try_from(start)
            .ok()
            .zip(u64::try_from(chunk.compressed_size()).ok())
            .and_then(|(start, length)| Some((start, start.checked_add(length)?)))
            .filter(|&(_, end)| end <= file.len() as u64)
            .ok_or_else(|| refused(&name, "lies outside the file"))?;
        self.chunk_longest = 0;
        let mut at = start as usize;
        while at < end as usize {
            let (header, header_length) =
                thrift::page_header(&file[at..end as usize]).map_err(|why| {
                    refused(
                        &name,
                        &format!("has a page header that cannot be read: {why}"),
                    )
                })?;
            let body_start = at + header_length;
            let body_end = usize::try_from(header.compressed)
                .ok()
                .and_then(|n| body_start.checked_add(n))
                .filter(|&body_end| body_end <= end as usize)
                .ok_or_else(|| refused(&name, "has a page longer than its column chunk"))?;
            self.page(&name, codec, chunk, &header, &file[body_start..body_end])?;
            at = body_end;
        }
        Ok(())
    }

    fn page(
        &mut self,
        name: &str,
        codec: Compression,
        chunk: &ColumnChunkMetaData,
        header: &PageHeader,
        body: &[u8],
    ) -> Result<(), ApiError> {
        let inflated = i64::from(header.uncompressed);
        if !(0..=MOST_PAGE_BYTES).contains(&inflated) {
            return Err(refused(name, "has a page over 64 MiB inflated"));
        }
        self.inflated += inflated as u64;
        if self.inflated > self.most_inflated {
            return Err(ApiError::field(
                "/",
                format!(
                    "the Parquet file holds more than {} bytes inflated, the limit",
                    self.most_inflated
                ),
            ));
        }
        self.count_decoded(header)?;
        if header.encoding == Some(DELTA_BYTE_ARRAY) {
            return Err(refused(
                name,
                "uses DELTA_BYTE_ARRAY encoding; write it with PLAIN or dictionary encoding",
            ));
        }
        // Data v2 keeps its levels uncompressed ahead of the values.
        let (levels, compressed) = match header.kind {
            thrift::DATA_PAGE_V2 => (header.levels, header.values_compressed),
            _ => (0, true),
        };
        let (Some(values), Some(size)) = (
            body.get(levels.max(0) as usize..),
            usize::try_from(header.uncompressed - levels).ok(),
        ) else {
            return Err(refused(name, "has a page whose levels outgrow it"));
        };
        let dictionary_of_text = header.kind == thrift::DICTIONARY_PAGE
            && chunk.column_type() == PhysicalType::BYTE_ARRAY;
        if !compressed || !(dictionary_of_text || matches!(codec, Compression::ZSTD(_))) {
            return Ok(());
        }
        let inflated = inflate(codec, values, size).map_err(|why| {
            refused(
                name,
                &format!("has a page that does not inflate to its stated size: {why}"),
            )
        })?;
        if dictionary_of_text {
            let plain = inflated.as_deref().unwrap_or(values);
            self.chunk_longest = longest_plain_text(plain);
            self.longest_value = self.longest_value.max(self.chunk_longest);
        }
        Ok(())
    }

    /// Adds what a page decodes to at most, refusing the file past its budget: a few bytes
    /// of indices into a long dictionary value would otherwise cost minutes to decode.
    fn count_decoded(&mut self, header: &PageHeader) -> Result<(), ApiError> {
        let indices = header.kind != thrift::DICTIONARY_PAGE
            && matches!(header.encoding, Some(PLAIN_DICTIONARY | RLE_DICTIONARY));
        let decoded = match indices {
            true => (header.values.max(0) as u64).saturating_mul(self.chunk_longest as u64),
            false => header.uncompressed.max(0) as u64,
        };
        self.decoded = self.decoded.saturating_add(decoded);
        if self.decoded > self.most_decoded {
            return Err(ApiError::field(
                "/",
                format!(
                    "the Parquet file decodes to more than {} bytes (its dictionaries' values repeated by their rows), the limit `batch.max_decoded_bytes`",
                    self.most_decoded
                ),
            ));
        }
        Ok(())
    }
}

/// Inflates `values` into exactly `size` bytes, never more (`None`: they are stored as is).
fn inflate(codec: Compression, values: &[u8], size: usize) -> Result<Option<Vec<u8>>, String> {
    let inflated = match codec {
        Compression::UNCOMPRESSED => return Ok(None),
        Compression::SNAPPY => {
            let claimed = snap::raw::decompress_len(values).map_err(|e| e.to_string())?;
            if claimed != size {
                return Err(format!("{claimed} bytes, not {size}"));
            }
            snap::raw::Decoder::new()
                .decompress_vec(values)
                .map_err(|e| e.to_string())?
        }
        Compression::LZ4_RAW => {
            lz4_flex::block::decompress(values, size).map_err(|e| e.to_string())?
        }
        _ => zstd::bulk::Decompressor::new()
            .and_then(|mut z| z.decompress(values, size))
            .map_err(|e| e.to_string())?,
    };
    if inflated.len() != size {
        return Err(format!("{} bytes, not {size}", inflated.len()));
    }
    Ok(Some(inflated))
}

/// The longest value of PLAIN-encoded byte arrays (each a 4-byte length, then its bytes).
fn longest_plain_text(mut values: &[u8]) -> usize {
    let mut longest = 0;
    while let Some((length, rest)) = values.split_first_chunk::<4>() {
        let length = u32::from_le_bytes(*length) as usize;
        longest = longest.max(length.min(rest.len()));
        values = rest.get(length..).unwrap_or_default();
    }
    longest
}

fn refused(column: &str, why: &str) -> ApiError {
    ApiError::field("/", format!("column `{column}` {why}"))
}

fn unreadable(error: parquet::errors::ParquetError) -> ApiError {
    ApiError::field("/", format!("the Parquet file cannot be read: {error}"))
}
