//! Reading a population streamed as NDJSON or CSV, record by record as the batch reads
//! bills: a record that cannot be read is left out and reported, the rest kept in order.

use std::sync::Arc;

use bytes::Bytes;

use super::{Member, Population};
use crate::batch::stream::{self, Job};
use crate::batch::{parse_record, Format, Limits, Record};
use crate::bill::BillRequest;
use crate::registry::Snapshot;
use crate::tariff::TariffSet;
use crate::wire::csv::Columns;
use crate::wire::problem::ApiError;

/// Reads the population `input` holds (records naming only their enterprise filled from
/// `registry`). `limits.max_lines` caps it: past the cap the whole
/// population is refused, since a simulation never runs on part of one.
pub fn read<I, E>(
    format: Format,
    limits: Limits,
    tariffs: Arc<TariffSet>,
    registry: Option<Arc<Snapshot>>,
    input: I,
) -> Result<Population, E>
where
    I: Iterator<Item = Result<Bytes, E>>,
    E: From<ApiError>,
{
    let mut population = Population::default();
    stream::open(format, limits, input)?.drive(
        Reading {
            format,
            tariffs,
            registry,
        },
        |read: Result<Vec<Read>, ApiError>| {
            for (line, request) in read? {
                match request {
                    Ok(request) => population.members.push(Member {
                        record: line,
                        request,
                    }),
                    Err(error) => population.reject(line, error.one_line()),
                }
            }
            Ok(())
        },
    )?;
    Ok(population)
}

/// A record's line and its request, or why it was left out.
type Read = (u64, Result<BillRequest, ApiError>);

struct Reading {
    format: Format,
    tariffs: Arc<TariffSet>,
    registry: Option<Arc<Snapshot>>,
}

impl Job for Reading {
    type Output = Result<Vec<Read>, ApiError>;

    fn run(&self, records: &[Record], columns: Option<&Columns>) -> Self::Output {
        if let Some(Record::OverLimit { max_lines, .. }) = records.last() {
            return Err(ApiError::field(
                "/",
                format!(
                    "the population holds more than {max_lines} records, the limit of a simulation"
                ),
            ));
        }
        let read = |record: &Record| {
            let request = parse_record(record, self.format, columns, self.registry.as_deref())
                .map_err(|f| f.error)?;
            crate::pricing::tariff_for(&self.tariffs, &request)?;
            Ok(request)
        };
        Ok(records.iter().map(|r| (r.line(), read(r))).collect())
    }
}
