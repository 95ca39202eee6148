//! A streamed population compared in one pass: on the threads that parse them, records are
//! priced under the baseline and, where the reform changes a parameter the bill looked up,
//! under the reform, and counted at once. Nothing of the population is kept but the counts
//! and who the enterprises changing most are, so a simulation without a sweep or a goal
//! costs little more than reading its population. The answer is the one a kept population
//! gives, to the fen.

use std::sync::Arc;

use bytes::Bytes;

use super::baseline::{touched, Priced};
use super::compare::{outcome, Movers, Outcome, Tally};
use super::intake::{refuse_over_limit, Source};
use super::members::Group;
use super::report::{Counts, Who};
use super::{reformed, reprices, Excluded, Problem, Reform, Report, Side, Spec, EXCLUDED_EXAMPLES};
use crate::batch::stream::{self, Job};
use crate::batch::{Limits, Record, Upload};
use crate::bill::BillRequest;
use crate::tariff::{ParamSet, Tariff};
use crate::wire::csv::Columns;
use crate::wire::problem::ApiError;

/// A population to compare as it is read, under two tariffs.
pub struct Comparison {
    source: Source,
    baseline: Arc<Tariff>,
    reformed: Arc<Tariff>,
    /// What the reform changes (`None`: maybe anything).
    touched: Option<ParamSet>,
    /// How many of the enterprises whose bills change most to name.
    top: usize,
}

impl Comparison {
    /// `spec`'s reform of `baseline`, over records read as `source` says; the reform's
    /// problems if it cannot be applied.
    pub fn new(
        source: Source,
        baseline: Arc<Tariff>,
        spec: &Spec,
    ) -> Result<Comparison, Vec<Problem>> {
        let reformed = reformed(&source.tariffs, &baseline, &spec.reform)?;
        Ok(Comparison {
            touched: touched(&baseline, &reformed),
            source,
            baseline,
            reformed: Arc::new(reformed),
            top: spec.top,
        })
    }

    /// Reads the population `input` holds and compares it; the report of `reform`, and how
    /// many members were read. `limits.max_lines` caps it: past the cap the whole
    /// population is refused.
    pub fn run<I, E>(
        self,
        reform: &Reform,
        (upload, limits): (Upload, Limits),
        input: I,
    ) -> Result<(Report, u64), E>
    where
        I: Iterator<Item = Result<Bytes, E>>,
        E: From<ApiError>,
    {
        let (baseline, reformed) = (self.baseline.clone(), self.reformed.clone());
        let mut all = Chunk::new(self.top);
        stream::open(upload, limits, input)?.drive(self, |chunk: Result<Chunk, ApiError>| {
            all.append(chunk?);
            Ok(())
        })?;
        let Chunk {
            counts, tally, who, ..
        } = all;
        let members = counts.members;
        let report = Report::new((&baseline, reform, &reformed), counts, tally, |i| {
            let at = who.binary_search_by_key(&i, |(index, _)| *index);
            who[at.expect("every mover is named")].1.clone()
        });
        Ok((report, members))
    }

    /// A member's baseline and reformed bills, or why either could not be priced.
    fn both(&self, request: &BillRequest) -> Result<(Outcome, Outcome), String> {
        let baseline = Priced::price(&self.source.tariffs, &self.baseline, request)
            .map_err(|e| Side::Baseline.failed(e))?;
        let reform = match reprices(baseline.reached, self.touched.as_ref(), &baseline.read) {
            true => outcome(&self.reformed, request).map_err(|e| Side::Reform.failed(e))?,
            false => baseline.outcome,
        };
        Ok((baseline.outcome, reform))
    }
}

impl Job for Comparison {
    type Output = Result<Chunk, ApiError>;

    fn run(&self, records: &[Record], columns: Option<&Columns>) -> Self::Output {
        refuse_over_limit(records)?;
        let mut chunk = Chunk::new(self.top);
        for record in records {
            let line = record.line();
            let request = match self.source.request(record, columns) {
                Ok(request) => request,
                Err(error) => {
                    chunk.counts.rejected += 1;
                    chunk.exclude(line, error.one_line());
                    continue;
                }
            };
            let index = chunk.counts.members as usize;
            chunk.counts.members += 1;
            match self.both(&request) {
                Ok((b, r)) => {
                    if chunk.tally.add(index, Group::of(&request), b, r) {
                        chunk.who.push((index, Who::of(line, &request)));
                    }
                }
                Err(message) => {
                    chunk.counts.failed += 1;
                    chunk.exclude(line, message);
                }
            }
        }
        keep_movers(&mut chunk.who, &chunk.tally.movers);
        Ok(chunk)
    }
}

/// Records compared, counted: a chunk's, or all so far.
pub struct Chunk {
    counts: Counts,
    tally: Tally,
    /// Who each enterprise kept among the movers is, by its place, in order.
    who: Vec<(usize, Who)>,
}

impl Chunk {
    fn new(top: usize) -> Chunk {
        Chunk {
            counts: Counts::default(),
            tally: Tally::new(top),
            who: Vec::new(),
        }
    }

    /// Keeps an excluded record as an example while there are few (records come in order,
    /// so these are the first).
    fn exclude(&mut self, record: u64, message: String) {
        if self.counts.examples.len() < EXCLUDED_EXAMPLES {
            self.counts.examples.push(Excluded { record, message });
        }
    }

    /// Adds the records of `next`, which come after these.
    fn append(&mut self, next: Chunk) {
        let offset = self.counts.members as usize;
        let tally = std::mem::take(&mut self.tally);
        self.tally = tally.merge(next.tally.shifted(offset));
        let who = next.who.into_iter().map(|(i, who)| (i + offset, who));
        self.who.extend(who);
        keep_movers(&mut self.who, &self.tally.movers);
        let (counts, more) = (&mut self.counts, next.counts);
        counts.members += more.members;
        counts.rejected += more.rejected;
        counts.failed += more.failed;
        let room = EXCLUDED_EXAMPLES.saturating_sub(counts.examples.len());
        counts.examples.extend(more.examples.into_iter().take(room));
    }
}

/// Forgets who the enterprises no longer among `movers` are.
fn keep_movers(who: &mut Vec<(usize, Who)>, movers: &Movers) {
    let kept = movers.indices();
    who.retain(|(i, _)| kept.binary_search(i).is_ok());
}
