//! Populations kept on the server between simulations: read and checked once, then simulated
//! as often as a meeting tries reforms. They live in memory under one budget; when a new one
//! does not fit, the least recently used are let go (and remembered as evicted, so that a
//! client asking for one learns why it is gone).

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};

use chrono::{DateTime, Utc};

use super::{Baseline, Population, Scenario};

/// A population kept for simulations.
#[derive(Debug)]
pub struct KeptPopulation {
    /// `pop-` and the start of the digest: the same population kept twice is one.
    pub id: String,
    /// `xxh3:` and 32 hex digits, over what was read (and where records were filled from
    /// the registry or the ledger, the state they were filled from).
    pub digest: String,
    pub population: Population,
    /// Its baseline under the tariffs last simulated (first: the default tariff's), so that
    /// a reform prices only what it changes.
    baseline: Mutex<Arc<Baseline>>,
    /// What it holds in memory (with one baseline), as counted against the budget.
    pub bytes: usize,
    pub created_at: DateTime<Utc>,
    /// The key name that sent it.
    pub created_by: String,
}

impl KeptPopulation {
    /// `population` with its `baseline` (priced by [`Baseline::price`]).
    pub fn new(
        mut population: Population,
        baseline: Baseline,
        digest: u128,
        created_by: String,
    ) -> KeptPopulation {
        population.members.shrink_to_fit();
        crate::memory::release_freed(); // the buffers it outgrew while it was read
        let digest = format!("xxh3:{digest:032x}");
        KeptPopulation {
            id: format!("pop-{}", &digest[5..29]),
            digest,
            bytes: footprint(&population) + baseline.bytes(),
            baseline: Mutex::new(Arc::new(baseline)),
            population,
            created_at: crate::database::now(),
            created_by,
        }
    }

    /// Its baseline under `scenario`'s tariffs (this population's): the one kept, or priced
    /// now and kept in its place (the tariffs changed, or another was simulated). One
    /// baseline per population, so its memory stays what was counted.
    pub fn baseline_for(&self, scenario: &Scenario) -> Arc<Baseline> {
        let key = Baseline::key(scenario.tariffs, scenario.baseline);
        let kept = self
            .baseline
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        if kept.key == key {
            return kept;
        }
        let baseline = Arc::new(Baseline::price(scenario));
        if !scenario.cancelled() {
            *self.baseline.lock().unwrap_or_else(|e| e.into_inner()) = baseline.clone();
        }
        baseline
    }
}

/// Bytes a population holds.
pub fn footprint(population: &Population) -> usize {
    population.members.bytes()
        + population
            .rejected_examples
            .iter()
            .map(|e| std::mem::size_of_val(e) + e.message.capacity())
            .sum::<usize>()
        + std::mem::size_of::<Population>()
}

/// Why a population was not kept.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("the population takes {bytes} bytes in memory, more than the {budget} bytes kept populations may hold")]
pub struct OverBudget {
    pub bytes: usize,
    pub budget: usize,
}

/// What a lookup found.
pub enum Lookup {
    Kept(Arc<KeptPopulation>),
    /// It was let go to make room for newer ones.
    Evicted,
    Unknown,
}

/// How many evicted ids are remembered (for the message only; an id forgotten reads as unknown).
const REMEMBERED_EVICTIONS: usize = 1024;

/// The kept populations, bounded by a memory budget, least recently used let go first.
pub struct Kept {
    budget: usize,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    kept: HashMap<String, Entry>,
    used: usize,
    /// Counts uses: the entry with the lowest `used_at` is the least recently used.
    clock: u64,
    evicted: VecDeque<String>,
}

struct Entry {
    population: Arc<KeptPopulation>,
    used_at: u64,
}

/// What keeping a population did.
#[derive(Debug)]
pub struct Keeping {
    pub population: Arc<KeptPopulation>,
    /// False: the same population was kept already (and is now the most recently used).
    pub new: bool,
    /// How many older populations were let go to make room.
    pub evicted: usize,
}

impl Kept {
    pub fn new(budget: usize) -> Kept {
        Kept {
            budget,
            state: Mutex::default(),
        }
    }

    pub fn budget(&self) -> usize {
        self.budget
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock leaves plain bookkeeping behind: go on with it.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Keeps `population`, letting the least recently used go until it fits.
    pub fn keep(&self, population: KeptPopulation) -> Result<Keeping, OverBudget> {
        if population.bytes > self.budget {
            return Err(OverBudget {
                bytes: population.bytes,
                budget: self.budget,
            });
        }
        let mut state = self.state();
        if let Some(same) = state.touch(&population.id) {
            return Ok(Keeping {
                population: same,
                new: false,
                evicted: 0,
            });
        }
        let mut evicted = 0;
        while state.used + population.bytes > self.budget {
            state.evict_least_recent();
            evicted += 1;
        }
        let population = Arc::new(population);
        state.used += population.bytes;
        state.clock += 1;
        let used_at = state.clock;
        state.evicted.retain(|id| *id != population.id);
        state.kept.insert(
            population.id.clone(),
            Entry {
                population: population.clone(),
                used_at,
            },
        );
        Ok(Keeping {
            population,
            new: true,
            evicted,
        })
    }

    /// The population `id`, now the most recently used.
    pub fn get(&self, id: &str) -> Lookup {
        let mut state = self.state();
        match state.touch(id) {
            Some(population) => Lookup::Kept(population),
            None => state.gone(id),
        }
    }

    /// Lets `id` go, answering what it was.
    pub fn remove(&self, id: &str) -> Lookup {
        let mut state = self.state();
        match state.kept.remove(id) {
            Some(entry) => {
                state.used -= entry.population.bytes;
                Lookup::Kept(entry.population)
            }
            None => state.gone(id),
        }
    }

    /// Every kept population, most recently used first.
    pub fn list(&self) -> Vec<Arc<KeptPopulation>> {
        let state = self.state();
        let mut entries: Vec<&Entry> = state.kept.values().collect();
        entries.sort_by_key(|e| std::cmp::Reverse(e.used_at));
        entries.iter().map(|e| e.population.clone()).collect()
    }

    /// The bytes the kept populations hold together.
    pub fn used(&self) -> usize {
        self.state().used
    }
}

impl State {
    /// What became of `id`, not kept.
    fn gone(&self, id: &str) -> Lookup {
        match self.evicted.iter().any(|e| e == id) {
            true => Lookup::Evicted,
            false => Lookup::Unknown,
        }
    }

    fn touch(&mut self, id: &str) -> Option<Arc<KeptPopulation>> {
        self.clock += 1;
        let clock = self.clock;
        let entry = self.kept.get_mut(id)?;
        entry.used_at = clock;
        Some(entry.population.clone())
    }

    fn evict_least_recent(&mut self) {
        let Some(id) = self
            .kept
            .iter()
            .min_by_key(|(_, e)| e.used_at)
            .map(|(id, _)| id.clone())
        else {
            return;
        };
        if let Some(entry) = self.kept.remove(&id) {
            self.used -= entry.population.bytes;
        }
        if self.evicted.len() == REMEMBERED_EVICTIONS {
            self.evicted.pop_front();
        }
        self.evicted.push_back(id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn population(members: usize, seed: u128) -> KeptPopulation {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tariffs");
        let tariffs = crate::tariff::load_dir(&dir).unwrap();
        let tariff = tariffs.iter().find(|t| t.id() == "cn").unwrap();
        let period = crate::period::Period::month(2020, 10).unwrap();
        let population =
            Population::of(crate::population::Generator::new(tariff, period, 7).take(members));
        let digest = xxhash_rust::xxh3::xxh3_128(&seed.to_le_bytes());
        let baseline = Baseline::new(String::new());
        KeptPopulation::new(population, baseline, digest, "test".into())
    }

    #[test]
    fn the_least_recently_used_go_first_and_are_named_evicted() {
        let one = population(10, 1);
        let kept = Kept::new(one.bytes * 2 + one.bytes / 2);
        let (a, b, c) = (one, population(10, 2), population(10, 3));
        let (a_id, b_id, c_id) = (a.id.clone(), b.id.clone(), c.id.clone());
        kept.keep(a).unwrap();
        kept.keep(b).unwrap();
        // Using `a` makes `b` the least recently used.
        assert!(matches!(kept.get(&a_id), Lookup::Kept(_)));
        let keeping_c = kept.keep(c).unwrap();
        assert_eq!(keeping_c.evicted, 1);
        assert!(matches!(kept.get(&b_id), Lookup::Evicted));
        assert!(matches!(kept.get(&a_id), Lookup::Kept(_)));
        assert!(matches!(kept.get(&c_id), Lookup::Kept(_)));
        assert!(matches!(kept.get("pop-none"), Lookup::Unknown));
        let (list, used) = (kept.list(), kept.used());
        assert_eq!(list.len(), 2);
        assert_eq!(used, list.iter().map(|p| p.bytes).sum::<usize>());
        assert!(used <= kept.budget());
    }

    #[test]
    fn the_same_population_is_kept_once_and_one_over_the_budget_not_at_all() {
        let kept = Kept::new(population(10, 1).bytes);
        assert!(kept.keep(population(10, 1)).unwrap().new);
        let again = kept.keep(population(10, 1)).unwrap();
        assert!(!again.new);
        assert_eq!(kept.list().len(), 1);
        let over = kept.keep(population(20, 2)).unwrap_err();
        assert!(over.bytes > over.budget);
        assert!(matches!(kept.remove(&again.population.id), Lookup::Kept(_)));
        assert!(matches!(kept.remove(&again.population.id), Lookup::Unknown));
        assert!(kept.list().is_empty());
        assert_eq!(kept.used(), 0);
    }
}
