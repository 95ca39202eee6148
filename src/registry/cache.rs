//! The registry as batches and simulations read it: loaded whole once, and again only when
//! it has grown (a count is cheap; a registry only grows), so a million records by
//! reference cost one read of the registry, not a million.

use std::sync::Arc;

use tokio::sync::Mutex;

use super::store::{self, StoreError};
use super::Snapshot;
use crate::database::Database;

#[derive(Debug, Default)]
pub struct Cache {
    latest: Mutex<Arc<Snapshot>>,
}

impl Cache {
    /// The registry as it stands now. One caller reloads while the others wait for it.
    pub async fn current(&self, db: &Database) -> Result<Arc<Snapshot>, StoreError> {
        let mut latest = self.latest.lock().await;
        let changes = store::count(db).await?;
        if changes != latest.changes {
            *latest = Arc::new(store::snapshot(db).await?);
        }
        Ok(latest.clone())
    }
}
