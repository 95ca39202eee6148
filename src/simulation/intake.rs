//! Reading a population streamed as NDJSON or CSV, record by record as the batch reads
//! bills: a record that cannot be read is left out and reported, the rest kept in order.

use std::sync::Arc;

use bytes::Bytes;

use rayon::prelude::*;

use super::{Member, Population};
use crate::batch::{parse_record, Format, Limits, Record, Splitter};
use crate::tariff::TariffSet;
use crate::wire::csv::Columns;
use crate::wire::problem::ApiError;

/// Records parsed together, on every core.
const PARSE_CHUNK: usize = 8192;

pub struct Intake {
    format: Format,
    limits: Limits,
    tariffs: Arc<TariffSet>,
    /// The CSV header line while it is incomplete.
    header: Vec<u8>,
    columns: Option<Columns>,
    splitter: Option<Splitter>,
    records: Vec<Record>,
    population: Population,
}

impl Intake {
    /// `limits.max_lines` caps the population: a simulation never runs on part of one.
    pub fn new(format: Format, limits: Limits, tariffs: Arc<TariffSet>) -> Intake {
        Intake {
            format,
            limits,
            tariffs,
            header: Vec::new(),
            columns: None,
            splitter: (format == Format::Ndjson).then(|| Splitter::new(limits, 1)),
            records: Vec::new(),
            population: Population::default(),
        }
    }

    pub fn feed(&mut self, mut data: &[u8]) -> Result<(), ApiError> {
        if self.splitter.is_none() {
            match memchr::memchr(b'\n', data) {
                None => {
                    self.header.extend_from_slice(data);
                    if self.header.len() > self.limits.max_line_bytes {
                        return Err(ApiError::field("/", "the CSV header line is too long"));
                    }
                    return Ok(());
                }
                Some(end) => {
                    self.header.extend_from_slice(&data[..end]);
                    self.start_csv()?;
                    data = &data[end + 1..];
                }
            }
        }
        let splitter = self.splitter.as_mut().expect("started above");
        splitter.feed(Bytes::copy_from_slice(data), &mut self.records);
        if self.records.len() >= PARSE_CHUNK {
            self.parse()?;
        }
        Ok(())
    }

    pub fn finish(mut self) -> Result<Population, ApiError> {
        if self.splitter.is_none() {
            if self.header.is_empty() {
                return Err(ApiError::EmptyBody);
            }
            self.start_csv()?;
        }
        let splitter = self.splitter.as_mut().expect("started above");
        splitter.finish(&mut self.records);
        self.parse()?;
        Ok(self.population)
    }

    fn start_csv(&mut self) -> Result<(), ApiError> {
        let header = std::mem::take(&mut self.header);
        self.columns = Some(Columns::from_header(&header)?);
        self.splitter = Some(Splitter::new(self.limits, 2));
        Ok(())
    }

    fn parse(&mut self) -> Result<(), ApiError> {
        let records = std::mem::take(&mut self.records);
        if let Some(Record::OverLimit { max_lines, .. }) = records.last() {
            return Err(ApiError::field(
                "/",
                format!(
                    "the population holds more than {max_lines} records, the limit of a simulation"
                ),
            ));
        }
        let (format, columns) = (self.format, self.columns.as_ref());
        let parsed: Vec<_> = records
            .par_iter()
            .map(|record| {
                let request = parse_record(record, format, columns)?;
                crate::pricing::tariff_for(&self.tariffs, &request)?;
                Ok::<_, ApiError>(request)
            })
            .collect();
        for (record, parsed) in records.iter().zip(parsed) {
            match parsed {
                Ok(request) => self.population.members.push(Member {
                    record: record.line(),
                    request,
                }),
                Err(error) => self.population.reject(record.line(), error.one_line()),
            }
        }
        Ok(())
    }
}
