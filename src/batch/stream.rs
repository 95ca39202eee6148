//! The one streaming loop: bytes in (an HTTP body, a file, a multipart part), cut into
//! records, the records handed to a job a chunk at a time on rayon's pool with a few chunks
//! in flight, and the results delivered in input order. Batch billing (HTTP and offline) and
//! simulation intake are jobs of it; none writes the loop again.

use std::collections::VecDeque;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::mpsc::{sync_channel, Receiver, TryRecvError};
use std::sync::Arc;

use bytes::{Bytes, BytesMut};

use super::columnar::{self, Columnar, Rows};
use super::{ready_chunks, Format, Limits, Record, Splitter, Upload, CHUNK_RECORDS};
use crate::wire::csv::{Columns, BOM};
use crate::wire::problem::ApiError;

/// An input opened for reading records: for CSV, its header line read and understood.
pub struct Records<I> {
    source: Source<I>,
    columns: Option<Arc<Columns>>,
    /// Records that came with the header's piece of input.
    pending: Vec<Record>,
}

/// Where records come from: lines cut from the input as it arrives, or the rows of a
/// columnar file read whole.
enum Source<I> {
    Lines { input: I, splitter: Splitter },
    Rows(Rows),
}

/// Opens `input`, a sequence of byte pieces: for CSV, reads up to the end of the header
/// line and reads the columns from it (this is the only CSV-header reader); for NDJSON,
/// waits for the first byte; a columnar file is read whole and checked, its column names
/// the header. Input without a single byte is refused (`EmptyBody`): a batch or a
/// population of nothing is a mistake, not an empty answer.
pub fn open<I, E>(upload: Upload, limits: Limits, mut input: I) -> Result<Records<I>, E>
where
    I: Iterator<Item = Result<Bytes, E>>,
    E: From<ApiError>,
{
    let format = match upload {
        Upload::Text(format) => format,
        Upload::Columnar(kind) => return open_columnar(kind, limits, input),
    };
    if format == Format::Ndjson {
        let first = loop {
            match input.next() {
                Some(piece) => {
                    let piece = without_bom(piece?);
                    if !piece.is_empty() {
                        break piece;
                    }
                }
                None => return Err(ApiError::EmptyBody.into()),
            }
        };
        let mut splitter = Splitter::new(limits, 1);
        let mut pending = Vec::new();
        splitter.feed(first, &mut pending);
        return Ok(Records {
            source: Source::Lines { input, splitter },
            columns: None,
            pending,
        });
    }
    let mut header = BytesMut::new();
    let rest = loop {
        if let Some(end) = memchr::memchr(b'\n', &header) {
            let rest = header.split_off(end + 1).freeze();
            header.truncate(end);
            break rest;
        }
        if header.len() > limits.max_line_bytes {
            return Err(
                ApiError::field("/", "the CSV header line is over the line length limit").into(),
            );
        }
        match input.next() {
            Some(piece) => header.extend_from_slice(&piece?),
            None if header.is_empty() => return Err(ApiError::EmptyBody.into()),
            None => break Bytes::new(),
        }
    };
    let header = header.strip_suffix(b"\r").unwrap_or(&header);
    let header = header.strip_prefix(BOM).unwrap_or(header);
    let columns = Columns::from_header(header)?;
    let mut splitter = Splitter::new(limits, 2);
    let mut pending = Vec::new();
    splitter.feed(rest, &mut pending);
    Ok(Records {
        source: Source::Lines { input, splitter },
        columns: Some(Arc::new(columns)),
        pending,
    })
}

/// Reads a columnar file whole (up to `max_file_bytes`), checks it and reads its header.
fn open_columnar<I, E>(kind: Columnar, limits: Limits, input: I) -> Result<Records<I>, E>
where
    I: Iterator<Item = Result<Bytes, E>>,
    E: From<ApiError>,
{
    let mut file = BytesMut::new();
    for piece in input {
        let piece = piece?;
        if file.len() + piece.len() > limits.max_file_bytes {
            return Err(ApiError::PayloadTooLarge {
                limit: limits.max_file_bytes,
            }
            .into());
        }
        file.extend_from_slice(&piece);
    }
    if file.is_empty() {
        return Err(ApiError::EmptyBody.into());
    }
    let (header, rows) = columnar::open(kind, file.freeze(), limits)?;
    Ok(Records {
        source: Source::Rows(rows),
        columns: Some(Arc::new(Columns::from_header(&header)?)),
        pending: Vec::new(),
    })
}

/// The input without the byte-order mark a spreadsheet may put first.
fn without_bom(mut first: Bytes) -> Bytes {
    if first.starts_with(BOM) {
        let _ = first.split_to(BOM.len());
    }
    first
}

/// A job over one chunk of records: `columns` are the CSV header's, `None` for NDJSON.
pub trait Job: Send + Sync + 'static {
    type Output: Send + 'static;
    fn run(&self, records: &[Record], columns: Option<&Columns>) -> Self::Output;
}

impl<I, E> Records<I>
where
    I: Iterator<Item = Result<Bytes, E>>,
    E: From<ApiError>,
{
    /// Reads every record, runs `job` over chunks of them on rayon's pool, and hands each
    /// chunk's output to `deliver` in input order, as soon as it and those before it are done.
    /// Memory holds a few chunks whatever the input's size. The first error (of the input or
    /// of `deliver`) ends the loop; chunks still in flight finish and are dropped.
    pub fn drive<J: Job>(
        mut self,
        job: J,
        mut deliver: impl FnMut(J::Output) -> Result<(), E>,
    ) -> Result<(), E> {
        let job = Arc::new(job);
        let most_in_flight = 2 * std::thread::available_parallelism().map_or(2, |n| n.get());
        let mut in_flight: VecDeque<Receiver<std::thread::Result<J::Output>>> = VecDeque::new();
        let mut records = std::mem::take(&mut self.pending);
        records.reserve(CHUNK_RECORDS);
        loop {
            let done = !self.source.read(&mut records)?;
            for chunk in ready_chunks(&mut records, done) {
                in_flight.push_back(on_the_pool(job.clone(), self.columns.clone(), chunk));
                if in_flight.len() >= most_in_flight {
                    let next = in_flight.pop_front().expect("just pushed");
                    deliver(outcome(next.recv())?)?;
                }
            }
            // Whatever is done goes out now, not only when the queue is full.
            while let Some(front) = in_flight.front() {
                match front.try_recv() {
                    Err(TryRecvError::Empty) => break,
                    ready => {
                        in_flight.pop_front();
                        deliver(outcome(ready.map_err(|_| std::sync::mpsc::RecvError))?)?;
                    }
                }
            }
            if done {
                break;
            }
        }
        for next in in_flight {
            deliver(outcome(next.recv())?)?;
        }
        Ok(())
    }
}

impl<I, E> Source<I>
where
    I: Iterator<Item = Result<Bytes, E>>,
    E: From<ApiError>,
{
    /// Pushes the next records onto `out`; `false` once the input has ended.
    fn read(&mut self, out: &mut Vec<Record>) -> Result<bool, E> {
        match self {
            Source::Lines { input, splitter } => match input.next() {
                Some(piece) => {
                    splitter.feed(piece?, out);
                    Ok(true)
                }
                None => {
                    splitter.finish(out);
                    Ok(false)
                }
            },
            Source::Rows(rows) => Ok(rows.read(out)?),
        }
    }
}

/// Runs a chunk on rayon's pool (a thread per core, not per chunk); the answer, or the
/// panic it ended in, arrives on the receiver.
fn on_the_pool<J: Job>(
    job: Arc<J>,
    columns: Option<Arc<Columns>>,
    chunk: Vec<Record>,
) -> Receiver<std::thread::Result<J::Output>> {
    let (tx, rx) = sync_channel(1);
    rayon::spawn(move || {
        let output = catch_unwind(AssertUnwindSafe(|| job.run(&chunk, columns.as_deref())));
        let _ = tx.send(output);
    });
    rx
}

/// A chunk's output; a job that panicked is an internal error, logged, never a crash.
fn outcome<T>(
    received: Result<std::thread::Result<T>, std::sync::mpsc::RecvError>,
) -> Result<T, ApiError> {
    match received {
        Ok(Ok(output)) => Ok(output),
        _ => {
            tracing::error!("a chunk's job panicked; the stream stops");
            Err(ApiError::Internal)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Lines;

    impl Job for Lines {
        type Output = Vec<u64>;
        fn run(&self, records: &[Record], _: Option<&Columns>) -> Vec<u64> {
            records.iter().map(Record::line).collect()
        }
    }

    fn pieces(text: &str, size: usize) -> impl Iterator<Item = Result<Bytes, ApiError>> {
        let bytes = Bytes::copy_from_slice(text.as_bytes());
        let n = bytes.len();
        (0..n.div_ceil(size)).map(move |i| Ok(bytes.slice(i * size..((i + 1) * size).min(n))))
    }

    const LIMITS: Limits = Limits {
        max_line_bytes: 1000,
        max_lines: u64::MAX,
        max_file_bytes: 1 << 20,
        max_decoded_bytes: 1 << 30,
    };

    #[test]
    fn every_record_comes_back_once_in_input_order_whatever_the_pieces() {
        let text: String = (0..5000).map(|i| format!("{{\"n\":{i}}}\n")).collect();
        for size in [1, 7, 4096, text.len()] {
            let mut seen = Vec::new();
            open(Upload::Text(Format::Ndjson), LIMITS, pieces(&text, size))
                .unwrap()
                .drive(Lines, |lines| {
                    seen.extend(lines);
                    Ok(())
                })
                .unwrap();
            assert_eq!(seen, (1..=5000).collect::<Vec<u64>>(), "pieces of {size}");
        }
    }

    #[test]
    fn the_csv_header_is_read_across_pieces_and_numbers_rows_from_two() {
        let text = "enterprise_id,industry,kwh\r\ne1,steel,1\ne2,steel,2";
        for size in [1, 5, text.len()] {
            let records = open(Upload::Text(Format::Csv), LIMITS, pieces(text, size)).unwrap();
            assert!(records.columns.is_some());
            let mut seen = Vec::new();
            records
                .drive(Lines, |lines| {
                    seen.extend(lines);
                    Ok(())
                })
                .unwrap();
            assert_eq!(seen, [2, 3], "pieces of {size}");
        }
    }

    #[test]
    fn input_without_a_byte_is_refused_in_either_format() {
        for format in [Format::Ndjson, Format::Csv] {
            let nothing = open(Upload::Text(format), LIMITS, pieces("", 1));
            assert!(
                matches!(nothing.err(), Some(ApiError::EmptyBody)),
                "{format:?}"
            );
        }
    }

    #[test]
    fn a_bad_or_missing_csv_header_is_refused_before_any_record() {
        let refused = |text: &str| open(Upload::Text(Format::Csv), LIMITS, pieces(text, 3)).err();
        assert!(matches!(refused(""), Some(ApiError::EmptyBody)));
        assert!(refused("enterprise_id,colour\ne1,red\n").is_some());
        let long = "enterprise_id,".repeat(200);
        assert!(refused(&long).is_some());
    }

    #[test]
    fn an_error_from_the_input_or_the_receiver_stops_the_loop() {
        let broken = pieces("{}\n", 3).chain(std::iter::once(Err(ApiError::EmptyBody)));
        let result = open(Upload::Text(Format::Ndjson), LIMITS, broken)
            .unwrap()
            .drive(Lines, |_| Ok(()));
        assert!(matches!(result, Err(ApiError::EmptyBody)));
        let text: String = "{}\n".repeat(10 * CHUNK_RECORDS);
        let mut delivered = 0;
        let result = open(Upload::Text(Format::Ndjson), LIMITS, pieces(&text, 100))
            .unwrap()
            .drive(Lines, |_| {
                delivered += 1;
                Err(ApiError::Internal)
            });
        assert!(result.is_err());
        assert_eq!(delivered, 1);
    }

    struct Panics;

    impl Job for Panics {
        type Output = ();
        fn run(&self, _: &[Record], _: Option<&Columns>) {
            panic!("a job that panics");
        }
    }

    #[test]
    fn a_job_that_panics_is_an_internal_error_not_a_crash() {
        let result = open(Upload::Text(Format::Ndjson), LIMITS, pieces("{}\n", 3))
            .unwrap()
            .drive(Panics, |()| Ok(()));
        assert!(matches!(result, Err(ApiError::Internal)));
    }
}
