//! Reading a population streamed as NDJSON or CSV, record by record as the batch reads
//! bills: a record that cannot be read is left out and reported, the rest kept in order.
//! Given the tariff a simulation reforms, each record's baseline bill is priced as it is
//! read, on the threads that parse it, so no second pass over the population is needed.

use std::sync::Arc;

use bytes::Bytes;

use super::baseline::{Baseline, Priced};
use super::{Members, Population};
use crate::batch::stream::{self, Job};
use crate::batch::{parse_record, Format, Limits, Record, Upload};
use crate::bill::BillRequest;
use crate::registry::Snapshot;
use crate::tariff::{Tariff, TariffSet};
use crate::wire::csv::Columns;
use crate::wire::problem::ApiError;

/// Reads the population `input` holds (records naming only their enterprise filled from
/// `registry`); with `target`, also its baseline under it (and the other loaded tariffs
/// records name). `limits.max_lines` caps it: past the cap the whole population is
/// refused, since a simulation never runs on part of one.
pub fn read<I, E>(
    upload: Upload,
    limits: Limits,
    tariffs: Arc<TariffSet>,
    registry: Option<Arc<Snapshot>>,
    target: Option<Arc<Tariff>>,
    input: I,
) -> Result<(Population, Option<Baseline>), E>
where
    I: Iterator<Item = Result<Bytes, E>>,
    E: From<ApiError>,
{
    let mut population = Population::default();
    let mut baseline = target
        .as_ref()
        .map(|t| Baseline::new(Baseline::key(&tariffs, t)));
    stream::open(upload, limits, input)?.drive(
        Reading {
            source: Source {
                format: upload.records(),
                tariffs,
                registry,
            },
            target,
        },
        |read: Result<Read, ApiError>| {
            let read = read?;
            population.members.append(read.members);
            if let Some(baseline) = baseline.as_mut() {
                read.priced.into_iter().for_each(|p| baseline.push(p));
            }
            for (line, message) in read.rejected {
                population.reject(line, message);
            }
            Ok(())
        },
    )?;
    Ok((population, baseline))
}

/// A chunk of records read: its members packed, their baselines (if asked for), and the
/// records left out with why, each in input order.
#[derive(Default)]
struct Read {
    members: Members,
    priced: Vec<Result<Priced, Box<str>>>,
    rejected: Vec<(u64, String)>,
}

struct Reading {
    source: Source,
    target: Option<Arc<Tariff>>,
}

/// How records of a population are read into requests.
pub struct Source {
    pub format: Format,
    pub tariffs: Arc<TariffSet>,
    /// Fills in records that name only their enterprise.
    pub registry: Option<Arc<Snapshot>>,
}

impl Source {
    /// `record`'s request, if it can be read and names a loaded tariff in force.
    pub fn request(
        &self,
        record: &Record,
        columns: Option<&Columns>,
    ) -> Result<BillRequest, ApiError> {
        let request = parse_record(record, self.format, columns, self.registry.as_deref())
            .map_err(|f| f.error)?;
        crate::pricing::tariff_for(&self.tariffs, &request)?;
        Ok(request)
    }
}

/// Refuses a chunk that ends past the population's cap: a simulation never runs on part
/// of a population.
pub(super) fn refuse_over_limit(records: &[Record]) -> Result<(), ApiError> {
    match records.last() {
        Some(Record::OverLimit { max_lines, .. }) => Err(ApiError::field(
            "/",
            format!(
                "the population holds more than {max_lines} records, the limit of a simulation"
            ),
        )),
        _ => Ok(()),
    }
}

impl Job for Reading {
    type Output = Result<Read, ApiError>;

    fn run(&self, records: &[Record], columns: Option<&Columns>) -> Self::Output {
        refuse_over_limit(records)?;
        let priced = |record: &Record| {
            let request = self.source.request(record, columns)?;
            let priced = self
                .target
                .as_ref()
                .map(|target| Priced::price(&self.source.tariffs, target, &request));
            Ok::<_, ApiError>((request, priced))
        };
        let mut read = Read::default();
        for record in records {
            match priced(record) {
                Ok((request, priced)) if read.members.push(record.line(), &request) => {
                    read.priced.extend(priced);
                }
                Ok(_) => read.rejected.push((record.line(), super::UNKEPT.into())),
                Err(error) => read.rejected.push((record.line(), error.one_line())),
            }
        }
        Ok(read)
    }
}
