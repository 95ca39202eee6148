//! Reading a population streamed as NDJSON or CSV, record by record as the batch reads
//! bills: a record that cannot be read is left out and reported, the rest kept in order.
//! Given the tariff a simulation reforms, each record's baseline bill is priced as it is
//! read, on the threads that parse it, so no second pass over the population is needed.

use std::sync::Arc;

use bytes::Bytes;

use super::baseline::{Baseline, Known};
use super::{Member, Population};
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
    let mut known = Vec::new();
    let key = target.as_ref().map(|t| Baseline::key(&tariffs, t));
    stream::open(upload, limits, input)?.drive(
        Reading {
            format: upload.records(),
            tariffs,
            registry,
            target,
        },
        |read: Result<Vec<Read>, ApiError>| {
            for (line, request) in read? {
                match request {
                    Ok((request, baseline)) => {
                        population.members.push(Member {
                            record: line,
                            request,
                        });
                        known.extend(baseline);
                    }
                    Err(error) => population.reject(line, error.one_line()),
                }
            }
            Ok(())
        },
    )?;
    let baseline = key.map(|key| Baseline {
        key,
        members: known,
    });
    Ok((population, baseline))
}

/// A record's line and its request with its baseline (if asked for), or why it was left out.
type Read = (
    u64,
    Result<(BillRequest, Option<Result<Known, Box<str>>>), ApiError>,
);

struct Reading {
    format: Format,
    tariffs: Arc<TariffSet>,
    registry: Option<Arc<Snapshot>>,
    target: Option<Arc<Tariff>>,
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
            let known = self
                .target
                .as_ref()
                .map(|target| Known::price(&self.tariffs, target, &request));
            Ok((request, known))
        };
        Ok(records.iter().map(|r| (r.line(), read(r))).collect())
    }
}
