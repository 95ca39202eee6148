//! The registry as batches and simulations read it: loaded whole once, then brought up to
//! date with only the changes recorded since (a count is cheap; a registry only grows), so
//! a million records by reference cost one read of the registry, and a registrar's write
//! costs the next batch that write, not the whole registry again.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use tokio::sync::Mutex;

use super::store::{self, StoreError};
use super::Snapshot;
use crate::database::Database;

/// How far before the newest change held the changes are read again: a writer whose clock
/// is a little behind, or whose commit came late, is still seen. Anything missed shows in
/// the count, and the whole registry is read again.
const OVERLAP: chrono::Duration = chrono::Duration::seconds(5);

#[derive(Debug, Default)]
pub struct Cache {
    latest: Mutex<Arc<Snapshot>>,
    /// Whole reads of the registry since start.
    reads: AtomicU64,
}

impl Cache {
    /// The registry as it stands now. One caller brings it up to date while the others wait.
    pub async fn current(&self, db: &Database) -> Result<Arc<Snapshot>, StoreError> {
        let mut latest = self.latest.lock().await;
        let changes = store::count(db).await?;
        if changes == latest.changes {
            return Ok(latest.clone());
        }
        if let Some(newest) = latest.newest {
            let grown = grown(&latest, db, newest - OVERLAP).await?;
            // Counted again after: writes landing meanwhile make the counts differ, and the
            // whole registry is read.
            if grown.changes == store::count(db).await? {
                *latest = Arc::new(grown);
                return Ok(latest.clone());
            }
        }
        self.reads.fetch_add(1, Ordering::Relaxed);
        *latest = Arc::new(store::snapshot(db).await?);
        Ok(latest.clone())
    }

    /// How many times the whole registry was read.
    pub fn whole_reads(&self) -> u64 {
        self.reads.load(Ordering::Relaxed)
    }
}

/// `held` with the changes recorded since `since` that it lacks.
async fn grown(
    held: &Snapshot,
    db: &Database,
    since: chrono::DateTime<chrono::Utc>,
) -> Result<Snapshot, StoreError> {
    let mut grown = held.clone();
    for (enterprise_id, change) in store::changes_since(db, Some(since)).await? {
        grown.add(&enterprise_id, change);
    }
    Ok(grown)
}
