//! Arrow IPC uploads, file ("Feather v2") or stream. Every message's stated lengths are
//! checked against the bytes there are before the reader, which allocates from them, reads
//! it. Compressed buffers are refused (the reader is built without codecs): their stated
//! sizes cannot be checked before inflating.

use std::io::Cursor;

use arrow_ipc::reader::{FileReader, StreamReader};
use bytes::Bytes;

use super::{accepted_type, Batches};
use crate::wire::problem::ApiError;

const MAGIC: &[u8] = b"ARROW1";
/// A message's length follows this marker (older writers give the length alone).
const CONTINUATION: u32 = 0xFFFF_FFFF;

/// Opens an Arrow IPC file or stream held whole in `file`.
pub fn open(file: Bytes) -> Result<Batches, ApiError> {
    let batches: Batches = if file.starts_with(MAGIC) {
        check_file(&file)?;
        let reader = FileReader::try_new(Cursor::new(file), None).map_err(unreadable)?;
        Batches {
            schema: reader.schema(),
            batches: Box::new(reader),
        }
    } else {
        check_stream(&file)?;
        let reader = StreamReader::try_new(Cursor::new(file), None).map_err(unreadable)?;
        Batches {
            schema: reader.schema(),
            batches: Box::new(reader),
        }
    };
    for field in batches.schema.fields() {
        accepted_type(field)?;
    }
    Ok(batches)
}

/// The file format: its footer read (a verified flatbuffer), and each block it lists
/// inside the file.
fn check_file(file: &[u8]) -> Result<(), ApiError> {
    let bad = || malformed("its footer does not fit the file");
    let tail = file.len().checked_sub(MAGIC.len() + 4).ok_or_else(bad)?;
    if !file.ends_with(MAGIC) {
        return Err(malformed("it does not end as an Arrow file does"));
    }
    let length = i32::from_le_bytes(file[tail..tail + 4].try_into().expect("4 bytes"));
    let start = usize::try_from(length)
        .ok()
        .and_then(|n| tail.checked_sub(n))
        .ok_or_else(bad)?;
    let footer = arrow_ipc::root_as_footer(&file[start..tail])
        .map_err(|e| malformed(&format!("its footer cannot be read: {e}")))?;
    let blocks = footer.recordBatches().into_iter().flatten();
    for block in blocks.chain(footer.dictionaries().into_iter().flatten()) {
        let at = usize::try_from(block.offset()).map_err(|_| bad())?;
        if let Some((message, _)) = message_at(&file[..start], at)? {
            uncompressed(&message)?;
        }
        let end = [
            block.offset(),
            i64::from(block.metaDataLength()),
            block.bodyLength(),
        ]
        .into_iter()
        .try_fold(0i64, |end, n| {
            (n >= 0).then(|| end.checked_add(n)).flatten()
        });
        if end.is_none_or(|end| end as u64 > start as u64) {
            return Err(malformed("a block lies outside the file"));
        }
    }
    Ok(())
}

/// The stream format: each message's metadata (a verified flatbuffer) and body inside the
/// bytes there are, up to the end marker or the end.
fn check_stream(file: &[u8]) -> Result<(), ApiError> {
    let mut at = 0usize;
    while at < file.len() {
        let Some((message, end)) = message_at(file, at)? else {
            return Ok(());
        };
        uncompressed(&message)?;
        at = end;
    }
    Ok(())
}

/// The message at `at` (a verified flatbuffer) and where its body ends, inside the bytes
/// there are; `None` at the end marker.
fn message_at(file: &[u8], at: usize) -> Result<Option<(arrow_ipc::Message<'_>, usize)>, ApiError> {
    let word = |at: usize| {
        at.checked_add(4)
            .and_then(|end| file.get(at..end))
            .map(|b| u32::from_le_bytes(b.try_into().expect("4 bytes")))
            .ok_or_else(|| malformed("a message is cut off"))
    };
    let (prefix, length) = match word(at)? {
        CONTINUATION => (8, word(at + 4)?),
        length => (4, length),
    };
    if length == 0 {
        return Ok(None);
    }
    let metadata = file
        .get(at + prefix..at + prefix + length as usize)
        .ok_or_else(|| malformed("a message is longer than the stream"))?;
    let message = arrow_ipc::root_as_message(metadata)
        .map_err(|e| malformed(&format!("a message cannot be read: {e}")))?;
    let end = u64::try_from(message.bodyLength())
        .ok()
        .and_then(|body| body.checked_add((at + prefix + metadata.len()) as u64))
        .filter(|&end| end <= file.len() as u64)
        .ok_or_else(|| malformed("a message's body is longer than the stream"))?;
    Ok(Some((message, end as usize)))
}

/// Compressed buffers are refused by their codec: the reader is built without codecs (their
/// stated sizes cannot be checked before inflating), and would fail only once the answer
/// had begun.
fn uncompressed(message: &arrow_ipc::Message<'_>) -> Result<(), ApiError> {
    let batch = message
        .header_as_record_batch()
        .or_else(|| message.header_as_dictionary_batch()?.data());
    let compression = batch.and_then(|batch| batch.compression());
    match compression {
        None => Ok(()),
        Some(codec) => Err(malformed(&format!(
            "its buffers are compressed with {:?}; write it uncompressed (Parquet carries compression well)",
            codec.codec()
        ))),
    }
}

fn malformed(why: &str) -> ApiError {
    ApiError::field("/", format!("the Arrow IPC data cannot be read: {why}"))
}

fn unreadable(error: arrow_schema::ArrowError) -> ApiError {
    malformed(&error.to_string())
}
