//! Running a batch offline: files or stdin/stdout, every core, output in input order.

use std::collections::VecDeque;
use std::io::{BufRead, Write};
use std::sync::mpsc::{sync_channel, Receiver};
use std::sync::Arc;

use bytes::Bytes;

use super::{
    ready_chunks, ChunkOutput, Context, Format, Limits, Record, Splitter, Summary, CHUNK_RECORDS,
};
use crate::wire::csv::Columns;
use crate::wire::problem::ApiError;

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("{}", .0.problem().errors.iter().map(|e| format!("{}: {}", e.column.as_deref().unwrap_or(""), e.message)).collect::<Vec<_>>().join("; "))]
    Header(ApiError),
}

/// Prices every record of `input` into `output`; `progress` hears the running count.
/// The header of CSV input is read first; `context.columns` is filled from it. Reading
/// goes on while earlier chunks are priced on other threads; output keeps input order.
pub fn run(
    mut context: Context,
    mut input: impl BufRead,
    mut output: impl Write,
    limits: Limits,
    progress: impl Fn(u64),
) -> Result<Summary, RunError> {
    let mut splitter = match context.format {
        Format::Ndjson => Splitter::new(limits, 1),
        Format::Csv => {
            let mut header = Vec::new();
            input.read_until(b'\n', &mut header)?;
            let header = header.strip_suffix(b"\n").unwrap_or(&header);
            let header = header.strip_suffix(b"\r").unwrap_or(header);
            context.columns = Some(Columns::from_header(header).map_err(RunError::Header)?);
            Splitter::new(limits, 2)
        }
    };
    let context = Arc::new(context);
    let in_flight_max = 2 * std::thread::available_parallelism().map_or(2, |n| n.get());
    let mut in_flight: VecDeque<Receiver<ChunkOutput>> = VecDeque::new();
    let mut summary = Summary::default();
    let mut records: Vec<Record> = Vec::with_capacity(CHUNK_RECORDS);
    output.write_all(&context.preamble())?;
    loop {
        let buffer = input.fill_buf()?;
        let done = buffer.is_empty();
        if done {
            splitter.finish(&mut records);
        } else {
            splitter.feed(Bytes::copy_from_slice(buffer), &mut records);
            let n = buffer.len();
            input.consume(n);
        }
        for chunk in ready_chunks(&mut records, done) {
            let context = context.clone();
            in_flight.push_back(priced_on_the_pool(context, chunk));
            if in_flight.len() >= in_flight_max {
                write_next(&mut in_flight, &mut output, &mut summary)?;
                progress(summary.lines);
            }
        }
        if done {
            break;
        }
    }
    while !in_flight.is_empty() {
        write_next(&mut in_flight, &mut output, &mut summary)?;
    }
    progress(summary.lines);
    output.write_all(&context.summary_record(&summary))?;
    output.flush()?;
    Ok(summary)
}

/// Prices a chunk on rayon's pool (a thread per core, not per chunk); the answer arrives on
/// the receiver.
fn priced_on_the_pool(context: Arc<Context>, chunk: Vec<Record>) -> Receiver<ChunkOutput> {
    let (tx, rx) = sync_channel(1);
    rayon::spawn(move || {
        let _ = tx.send(context.price_chunk(&chunk));
    });
    rx
}

fn write_next(
    in_flight: &mut VecDeque<Receiver<ChunkOutput>>,
    output: &mut impl Write,
    summary: &mut Summary,
) -> std::io::Result<()> {
    if let Some(next) = in_flight.pop_front() {
        let out = next.recv().expect("pricing a chunk does not panic");
        summary.add(&out.summary);
        output.write_all(&out.bytes)?;
    }
    Ok(())
}
