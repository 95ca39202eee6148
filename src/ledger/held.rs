//! A batch's issued bills and the output that shows them, held until stored together.
//!
//! Bill ids are random, so every commit rewrites a page of the bill-id index for nearly
//! every bill it adds: committing each 512-record part on its own, SQLite alone stores
//! 22 400 ledger rows/s here, against 48 100 in groups of 8 192 (`benches/ledger.sh
//! commits`). The output waits with its bills, so nothing is sent before it is stored.

use std::time::{Duration, Instant};

use bytes::Bytes;

use super::{store, Entry};
use crate::database::Database;
use crate::registry::store::StoreError;

/// Bills stored in one commit, at most (a group holds about 30 MB at this size).
const ROWS: usize = 8192;
/// How long output may wait for more bills to share its commit, judged as each part comes
/// (a stalled upload is ended by the body's idle timeout; its end stores the rest).
const MAX_WAIT: Duration = Duration::from_secs(1);

#[derive(Default)]
pub struct Held {
    entries: Vec<Entry>,
    output: Vec<Bytes>,
    since: Option<Instant>,
}

impl Held {
    /// Holds `output` with the bills it shows; true when the group is due to be stored:
    /// full, waited long enough, or holding no bill (output without bills goes on at once).
    pub fn hold(&mut self, mut entries: Vec<Entry>, output: Bytes) -> bool {
        let since = *self.since.get_or_insert_with(Instant::now);
        self.entries.append(&mut entries);
        self.output.push(output);
        self.entries.is_empty() || self.entries.len() >= ROWS || since.elapsed() >= MAX_WAIT
    }

    /// Stores every held bill in one transaction; the output to send now, and how many of
    /// the bills were new.
    pub async fn store(&mut self, db: &Database) -> Result<(Vec<Bytes>, u64), StoreError> {
        let stored = if self.entries.is_empty() {
            0
        } else {
            store::insert(db, &self.entries).await?
        };
        self.entries.clear();
        self.since = None;
        Ok((std::mem::take(&mut self.output), stored))
    }
}
