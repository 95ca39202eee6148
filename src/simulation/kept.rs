//! Populations kept on the server between simulations: read and checked once, then simulated
//! as often as a meeting tries reforms. Each belongs to the key that kept it: only that key
//! (or an admin) sees, uses or deletes it, under an id nobody can compute. They live in
//! memory under a budget for all and one for each key; a key short of room lets go of its
//! own least recently used, never another's (and they are remembered as evicted, so that a
//! client asking for one learns why it is gone).

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};

use chrono::{DateTime, Utc};

use super::{Baseline, Population, Scenario};

/// A population kept for simulations.
#[derive(Debug)]
pub struct KeptPopulation {
    /// `pop-` and 32 random hex digits.
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
        let id = format!("pop-{:032x}", random_u128());
        // What it holds besides its members: its own record, the baseline's, the texts, the
        // index entry, and what no size of ours shows (see `UNSEEN`).
        let overhead = std::mem::size_of::<KeptPopulation>()
            + std::mem::size_of::<Baseline>()
            + std::mem::size_of::<Entry>()
            + 2 * id.len()
            + digest.len()
            + created_by.len()
            + UNSEEN;
        KeptPopulation {
            id,
            digest,
            bytes: footprint(&population) + baseline.bytes() + overhead,
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

/// What a kept population holds resident beyond the sizes counted (allocator size classes
/// and headers, the empty vectors and tables a population starts with): measured by
/// `benches/kept_resident.py` as the server's resident growth per population kept, less
/// what it counted (about 1.9 KB for 2 records as for 100).
const UNSEEN: usize = 2048;

/// 128 bits from the operating system's generator: an id no one can compute from the file.
fn random_u128() -> u128 {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).expect("the operating system's random generator");
    u128::from_le_bytes(bytes)
}

/// Who looks: a key sees what it kept; an admin sees all.
#[derive(Debug, Clone, Copy)]
pub struct Viewer<'a> {
    pub key: &'a str,
    pub admin: bool,
}

impl Viewer<'_> {
    fn sees(&self, population: &KeptPopulation) -> bool {
        self.admin || population.created_by == self.key
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
pub enum OverBudget {
    #[error("the population takes {bytes} bytes in memory, more than the {budget} bytes one key's kept populations may hold (`simulation.kept_populations_bytes_per_key`)")]
    Key { bytes: usize, budget: usize },
    #[error("the population takes {bytes} bytes in memory, more than the {budget} bytes kept populations may hold (`simulation.kept_populations_bytes`)")]
    All { bytes: usize, budget: usize },
    #[error("the population takes {bytes} bytes in memory and only {free} are free: other keys' populations fill the rest, and are not let go for yours; delete one of yours, or ask again later")]
    Full { bytes: usize, free: usize },
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

/// The kept populations, bounded by a memory budget for all and one per key, each key's
/// least recently used let go first.
pub struct Kept {
    budget: usize,
    per_key: usize,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    kept: HashMap<String, Entry>,
    used: usize,
    /// Counts uses: the entry with the lowest `used_at` is the least recently used.
    clock: u64,
    /// Ids let go, with the key they belonged to.
    evicted: VecDeque<(String, String)>,
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
    pub fn new(budget: usize, per_key: usize) -> Kept {
        Kept {
            budget,
            per_key: per_key.min(budget),
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

    /// Keeps `population`, letting its key's least recently used go until it fits. The same
    /// population kept again by the same key is the one kept.
    pub fn keep(&self, population: KeptPopulation) -> Result<Keeping, OverBudget> {
        let bytes = population.bytes;
        if bytes > self.budget {
            return Err(OverBudget::All {
                bytes,
                budget: self.budget,
            });
        }
        if bytes > self.per_key {
            return Err(OverBudget::Key {
                bytes,
                budget: self.per_key,
            });
        }
        let mut state = self.state();
        let owner = population.created_by.clone();
        let same = state
            .kept
            .values()
            .find(|e| e.population.created_by == owner && e.population.digest == population.digest)
            .map(|e| e.population.id.clone());
        if let Some(same) = same.and_then(|id| state.touch(&id)) {
            return Ok(Keeping {
                population: same,
                new: false,
                evicted: 0,
            });
        }
        let mut evicted = 0;
        while state.used_by(&owner) + bytes > self.per_key || state.used + bytes > self.budget {
            if !state.evict_least_recent_of(&owner) {
                return Err(OverBudget::Full {
                    bytes,
                    free: self.budget - state.used,
                });
            }
            evicted += 1;
        }
        let population = Arc::new(population);
        state.used += population.bytes;
        state.clock += 1;
        let used_at = state.clock;
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

    /// The population `id`, if `viewer` may see it, now the most recently used.
    pub fn get(&self, id: &str, viewer: Viewer) -> Lookup {
        let mut state = self.state();
        match state.kept.get(id).map(|e| viewer.sees(&e.population)) {
            Some(true) => state.touch(id).map_or(Lookup::Unknown, Lookup::Kept),
            Some(false) => Lookup::Unknown,
            None => state.gone(id, viewer),
        }
    }

    /// Lets `id` go, if `viewer` may, answering what it was.
    pub fn remove(&self, id: &str, viewer: Viewer) -> Lookup {
        let mut state = self.state();
        match state.kept.get(id).map(|e| viewer.sees(&e.population)) {
            Some(true) => {
                let entry = state.kept.remove(id).expect("just found");
                state.used -= entry.population.bytes;
                Lookup::Kept(entry.population)
            }
            Some(false) => Lookup::Unknown,
            None => state.gone(id, viewer),
        }
    }

    /// Every population `viewer` may see, most recently used first, and the bytes they hold.
    pub fn list(&self, viewer: Viewer) -> (Vec<Arc<KeptPopulation>>, usize) {
        let state = self.state();
        let mut entries: Vec<&Entry> = state
            .kept
            .values()
            .filter(|e| viewer.sees(&e.population))
            .collect();
        entries.sort_by_key(|e| std::cmp::Reverse(e.used_at));
        let bytes = entries.iter().map(|e| e.population.bytes).sum();
        (
            entries.iter().map(|e| e.population.clone()).collect(),
            bytes,
        )
    }

    /// The most one key's populations may hold.
    pub fn per_key(&self) -> usize {
        self.per_key
    }

    /// The bytes the kept populations hold together.
    pub fn used(&self) -> usize {
        self.state().used
    }
}

impl State {
    /// What became of `id`, not kept: let go to make room, if it was `viewer`'s.
    fn gone(&self, id: &str, viewer: Viewer) -> Lookup {
        let seen = |(evicted, owner): &(String, String)| {
            evicted == id && (viewer.admin || owner == viewer.key)
        };
        match self.evicted.iter().any(seen) {
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

    /// The bytes `owner`'s populations hold.
    fn used_by(&self, owner: &str) -> usize {
        let owned = self
            .kept
            .values()
            .filter(|e| e.population.created_by == owner);
        owned.map(|e| e.population.bytes).sum()
    }

    /// Lets `owner`'s least recently used population go; false when it has none.
    fn evict_least_recent_of(&mut self, owner: &str) -> bool {
        let Some(id) = self
            .kept
            .iter()
            .filter(|(_, e)| e.population.created_by == owner)
            .min_by_key(|(_, e)| e.used_at)
            .map(|(id, _)| id.clone())
        else {
            return false;
        };
        if let Some(entry) = self.kept.remove(&id) {
            self.used -= entry.population.bytes;
        }
        if self.evicted.len() == REMEMBERED_EVICTIONS {
            self.evicted.pop_front();
        }
        self.evicted.push_back((id, owner.to_string()));
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ANY: Viewer = Viewer {
        key: "test",
        admin: false,
    };

    fn population(members: usize, seed: u128) -> KeptPopulation {
        owned(members, seed, "test")
    }

    fn owned(members: usize, seed: u128, owner: &str) -> KeptPopulation {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tariffs");
        let tariffs = crate::tariff::load_dir(&dir).unwrap();
        let tariff = tariffs.iter().find(|t| t.id() == "cn").unwrap();
        let period = crate::period::Period::month(2020, 10).unwrap();
        let population =
            Population::of(crate::population::Generator::new(tariff, period, 7).take(members));
        let digest = xxhash_rust::xxh3::xxh3_128(&seed.to_le_bytes());
        let baseline = Baseline::new(String::new());
        KeptPopulation::new(population, baseline, digest, owner.into())
    }

    #[test]
    fn the_least_recently_used_go_first_and_are_named_evicted() {
        let one = population(10, 1);
        let kept = Kept::new(one.bytes * 2 + one.bytes / 2, usize::MAX);
        let (a, b, c) = (one, population(10, 2), population(10, 3));
        let (a_id, b_id, c_id) = (a.id.clone(), b.id.clone(), c.id.clone());
        kept.keep(a).unwrap();
        kept.keep(b).unwrap();
        // Using `a` makes `b` the least recently used.
        assert!(matches!(kept.get(&a_id, ANY), Lookup::Kept(_)));
        let keeping_c = kept.keep(c).unwrap();
        assert_eq!(keeping_c.evicted, 1);
        assert!(matches!(kept.get(&b_id, ANY), Lookup::Evicted));
        assert!(matches!(kept.get(&a_id, ANY), Lookup::Kept(_)));
        assert!(matches!(kept.get(&c_id, ANY), Lookup::Kept(_)));
        assert!(matches!(kept.get("pop-none", ANY), Lookup::Unknown));
        let (list, used) = kept.list(ANY);
        assert_eq!(list.len(), 2);
        assert_eq!(used, list.iter().map(|p| p.bytes).sum::<usize>());
        assert!(used <= kept.budget());
    }

    #[test]
    fn the_same_population_is_kept_once_and_one_over_the_budget_not_at_all() {
        let kept = Kept::new(population(10, 1).bytes, usize::MAX);
        assert!(kept.keep(population(10, 1)).unwrap().new);
        let again = kept.keep(population(10, 1)).unwrap();
        assert!(!again.new);
        assert_eq!(kept.list(ANY).0.len(), 1);
        let over = kept.keep(population(20, 2)).unwrap_err();
        assert!(matches!(over, OverBudget::All { bytes, budget } if bytes > budget));
        assert!(matches!(
            kept.remove(&again.population.id, ANY),
            Lookup::Kept(_)
        ));
        assert!(matches!(
            kept.remove(&again.population.id, ANY),
            Lookup::Unknown
        ));
        assert!(kept.list(ANY).0.is_empty());
        assert_eq!(kept.used(), 0);
    }

    #[test]
    fn a_key_sees_and_lets_go_only_its_own_and_never_evicts_anothers() {
        let one = owned(10, 1, "a");
        let kept = Kept::new(one.bytes * 3 + one.bytes / 2, one.bytes * 2 + one.bytes / 2);
        let a = Viewer {
            key: "a",
            admin: false,
        };
        let b = Viewer {
            key: "b",
            admin: false,
        };
        let admin = Viewer {
            key: "root",
            admin: true,
        };
        let a1 = kept.keep(one).unwrap().population.id.clone();
        // The same file kept by another key is another population, under another id.
        let b1 = kept.keep(owned(10, 1, "b")).unwrap().population.id.clone();
        assert_ne!(a1, b1);
        assert!(matches!(kept.get(&a1, b), Lookup::Unknown));
        assert!(matches!(kept.remove(&a1, b), Lookup::Unknown));
        assert_eq!(kept.list(b).0.len(), 1);
        assert_eq!(kept.list(admin).0.len(), 2);
        // `a` past its own budget lets go of its own least recent, not of `b`'s.
        kept.keep(owned(10, 2, "a")).unwrap();
        let third = kept.keep(owned(10, 3, "a")).unwrap();
        assert_eq!(third.evicted, 1);
        assert!(matches!(kept.get(&a1, a), Lookup::Evicted));
        assert!(matches!(kept.get(&a1, b), Lookup::Unknown));
        assert!(matches!(kept.get(&b1, b), Lookup::Kept(_)));
        // With the whole budget taken, `b` makes room from its own, and `c` cannot push
        // anyone out.
        let b4 = kept.keep(owned(10, 4, "b")).unwrap();
        assert_eq!(b4.evicted, 1);
        assert!(matches!(kept.get(&b1, b), Lookup::Evicted));
        assert_eq!(kept.list(a).0.len(), 2);
        let full = kept.keep(owned(10, 5, "c")).unwrap_err();
        assert!(matches!(full, OverBudget::Full { .. }), "{full}");
        assert!(matches!(
            kept.remove(&b4.population.id, admin),
            Lookup::Kept(_)
        ));
        assert!(kept.list(admin).1 <= kept.budget());
    }
}
