//! Running a batch offline: files or stdin/stdout, every core, output in input order.

use std::io::{BufRead, Write};

use bytes::Bytes;

use super::{bill, stream, Context, Limits, Summary, Upload};
use crate::wire::problem::ApiError;

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("{}", .0.one_line())]
    Input(#[from] ApiError),
}

/// Prices every record of `input` into `output`; `progress` hears the running count.
pub fn run(
    context: Context,
    upload: Upload,
    input: impl BufRead,
    mut output: impl Write,
    limits: Limits,
    progress: impl Fn(u64),
) -> Result<Summary, RunError> {
    let records = stream::open(upload, limits, pieces(input))?;
    let mut lines = 0;
    let summary = bill(context, records, |bytes, part| {
        output.write_all(&bytes)?;
        lines += part.summary.lines;
        progress(lines);
        Ok::<_, RunError>(())
    })?;
    output.flush()?;
    Ok(summary)
}

/// A reader as the pieces it buffers.
pub fn pieces(mut input: impl BufRead) -> impl Iterator<Item = Result<Bytes, RunError>> {
    std::iter::from_fn(move || {
        let piece = match input.fill_buf() {
            Ok([]) => return None,
            Ok(buffer) => Bytes::copy_from_slice(buffer),
            Err(e) => return Some(Err(e.into())),
        };
        input.consume(piece.len());
        Some(Ok(piece))
    })
}
