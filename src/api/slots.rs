//! The places heavy work runs in: batches, simulations, kept populations and registry
//! imports share one pool, exports have a small one of their own. No key may hold more than
//! its share of a pool, so one client looping requests leaves room for the others; a
//! request finding no place is answered 429 at once (never queued holding a connection).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::problem::ApiError;

/// A pool of places with a cap per key.
pub struct Slots {
    places: Arc<Semaphore>,
    size: usize,
    per_key: usize,
    held: Arc<Mutex<HashMap<String, usize>>>,
    retry_after: u64,
}

/// A place held: given back, with the key's count, when dropped.
pub struct Slot {
    _place: OwnedSemaphorePermit,
    key: Option<String>,
    held: Arc<Mutex<HashMap<String, usize>>>,
}

impl Slots {
    /// `size` places, at most `per_key` (at least 1) of them held by one key.
    pub fn new(size: usize, per_key: usize, retry_after: u64) -> Slots {
        Slots {
            places: Arc::new(Semaphore::new(size)),
            size,
            per_key: per_key.clamp(1, size.max(1)),
            held: Arc::default(),
            retry_after,
        }
    }

    /// A place for `key`'s `what`, or 429: none left, or the key holds its share already.
    /// Without a key (access control off: nobody to tell apart) only the pool counts.
    pub fn take(&self, key: Option<&str>, what: &'static str) -> Result<Slot, ApiError> {
        let busy = |what| ApiError::TooBusy {
            what,
            retry_after: self.retry_after,
        };
        let mut held = self.held.lock().unwrap_or_else(|e| e.into_inner());
        let count = key.map_or(0, |key| held.get(key).copied().unwrap_or(0));
        if count >= self.per_key {
            return Err(busy("of this key's heavy requests"));
        }
        let place = self
            .places
            .clone()
            .try_acquire_owned()
            .map_err(|_| busy(what))?;
        if let Some(key) = key {
            held.insert(key.to_string(), count + 1);
        }
        Ok(Slot {
            _place: place,
            key: key.map(str::to_string),
            held: self.held.clone(),
        })
    }

    /// Places in use.
    pub fn in_use(&self) -> usize {
        self.size.saturating_sub(self.places.available_permits())
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let Some(key) = &self.key else {
            return;
        };
        let mut held = self.held.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(count) = held.get_mut(key) {
            *count -= 1;
            if *count == 0 {
                held.remove(key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_holds_its_share_and_the_rest_stays_for_others() {
        let slots = Slots::new(4, 2, 1);
        let take = |key| slots.take(Some(key), "batches");
        let a1 = take("a").unwrap();
        let _a2 = take("a").unwrap();
        assert!(take("a").is_err(), "a holds its share");
        let _b1 = take("b").unwrap();
        let _c1 = take("c").unwrap();
        assert!(take("d").is_err(), "the pool is full");
        assert_eq!(slots.in_use(), 4);
        drop(a1);
        assert_eq!(slots.in_use(), 3);
        let _a3 = take("a").unwrap();
        assert!(take("a").is_err());
        drop(_a3);
        let _open = slots.take(None, "batches").unwrap();
        assert!(
            slots.take(None, "batches").is_err(),
            "without keys the pool alone counts"
        );
    }
}
