//! Cutting a byte stream into numbered lines, with a cap on line length and record count.

use bytes::{Bytes, BytesMut};

use super::Limits;

/// One input record, numbered from 1 by its line in the input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Record {
    Line {
        line: u64,
        text: Bytes,
    },
    /// A line over `max_line_bytes`: not kept, reported.
    TooLong {
        line: u64,
        length: usize,
    },
    /// The first record past `max_lines`: reported once; later ones are not read.
    OverLimit {
        line: u64,
        max_lines: u64,
    },
}

impl Record {
    pub fn line(&self) -> u64 {
        match self {
            Record::Line { line, .. }
            | Record::TooLong { line, .. }
            | Record::OverLimit { line, .. } => *line,
        }
    }
}

pub struct Splitter {
    buffer: BytesMut,
    limits: Limits,
    /// Number of the line being read.
    line: u64,
    records: u64,
    /// Bytes of an over-long line seen so far, while skipping to its end.
    skipping: Option<usize>,
    over_limit: bool,
}

impl Splitter {
    /// `first_line` is the number of the first line fed (2 after a CSV header).
    pub fn new(limits: Limits, first_line: u64) -> Splitter {
        Splitter {
            buffer: BytesMut::new(),
            limits,
            line: first_line,
            records: 0,
            skipping: None,
            over_limit: false,
        }
    }

    /// Appends input, pushing every completed record onto `out`. A line that lies whole in
    /// `data` is a slice of it, not a copy; only lines cut across pieces are joined.
    pub fn feed(&mut self, data: Bytes, out: &mut Vec<Record>) {
        let mut start = 0;
        while let Some(at) = newline(&data[start..]) {
            let end = start + at;
            let whole = self.buffer.is_empty() && self.skipping.is_none();
            if whole && at <= self.limits.max_line_bytes {
                self.complete_line(Some(data.slice(start..end)), out);
            } else {
                self.take(&data[start..end]);
                self.complete_line(None, out);
            }
            start = end + 1;
        }
        self.take(&data[start..]);
    }

    /// Ends the input: a last line without a newline is still a record.
    pub fn finish(&mut self, out: &mut Vec<Record>) {
        if !self.buffer.is_empty() || self.skipping.is_some() {
            self.complete_line(None, out);
        }
    }

    pub fn over_limit(&self) -> bool {
        self.over_limit
    }

    fn take(&mut self, part: &[u8]) {
        match self.skipping.as_mut() {
            Some(seen) => *seen += part.len(),
            None if self.buffer.len() + part.len() > self.limits.max_line_bytes => {
                self.skipping = Some(self.buffer.len() + part.len());
                self.buffer.clear();
            }
            None => self.buffer.extend_from_slice(part),
        }
    }

    /// Ends the current line: `whole` if it came in one piece, else what `take` gathered.
    fn complete_line(&mut self, whole: Option<Bytes>, out: &mut Vec<Record>) {
        let line = self.line;
        self.line += 1;
        let text = whole.unwrap_or_else(|| self.buffer.split().freeze());
        let skipped = self.skipping.take();
        if self.over_limit {
            return;
        }
        if self.records == self.limits.max_lines {
            self.over_limit = true;
            out.push(Record::OverLimit {
                line,
                max_lines: self.limits.max_lines,
            });
            return;
        }
        self.records += 1;
        out.push(match skipped {
            Some(length) => Record::TooLong { line, length },
            None => Record::Line {
                line,
                text: strip_cr(text),
            },
        });
    }
}

fn newline(data: &[u8]) -> Option<usize> {
    memchr::memchr(b'\n', data)
}

/// Lines from Windows tools end in CRLF.
fn strip_cr(text: Bytes) -> Bytes {
    match text.last() {
        Some(b'\r') => text.slice(..text.len() - 1),
        _ => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(limits: Limits, chunks: &[&str]) -> Vec<Record> {
        let mut s = Splitter::new(limits, 1);
        let mut out = Vec::new();
        for c in chunks {
            s.feed(Bytes::copy_from_slice(c.as_bytes()), &mut out);
        }
        s.finish(&mut out);
        out
    }

    fn line(n: u64, text: &'static str) -> Record {
        Record::Line {
            line: n,
            text: Bytes::from_static(text.as_bytes()),
        }
    }

    const WIDE: Limits = Limits {
        max_line_bytes: 100,
        max_lines: 100,
        max_file_bytes: 0,
        max_decoded_bytes: 0,
    };

    #[test]
    fn lines_split_across_chunks_are_joined() {
        assert_eq!(
            split(WIDE, &["ab", "c\nd", "e\r\n", "f"]),
            vec![line(1, "abc"), line(2, "de"), line(3, "f")]
        );
    }

    #[test]
    fn a_trailing_newline_makes_no_extra_record_but_blank_lines_do() {
        assert_eq!(
            split(WIDE, &["a\n\nb\n"]),
            vec![line(1, "a"), line(2, ""), line(3, "b")]
        );
    }

    #[test]
    fn over_long_lines_are_reported_and_skipped() {
        let limits = Limits {
            max_line_bytes: 3,
            max_lines: 100,
            max_file_bytes: 0,
            max_decoded_bytes: 0,
        };
        assert_eq!(
            split(limits, &["ab\nabcd", "ef\ncd\n"]),
            vec![
                line(1, "ab"),
                Record::TooLong { line: 2, length: 6 },
                line(3, "cd")
            ]
        );
        assert_eq!(
            split(limits, &["abcdef\nabc\n"]),
            vec![Record::TooLong { line: 1, length: 6 }, line(2, "abc")]
        );
    }

    #[test]
    fn records_past_the_limit_are_reported_once() {
        let limits = Limits {
            max_line_bytes: 10,
            max_lines: 2,
            max_file_bytes: 0,
            max_decoded_bytes: 0,
        };
        assert_eq!(
            split(limits, &["a\nb\nc\nd\n"]),
            vec![
                line(1, "a"),
                line(2, "b"),
                Record::OverLimit {
                    line: 3,
                    max_lines: 2
                }
            ]
        );
    }
}
