//! The tariff set in service, replaceable while requests run: a reload loads and validates
//! a whole new set off to the side and swaps it in at once. A request takes the current set
//! once and prices everything with it, so no bill is priced by a half-loaded set.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use arc_swap::ArcSwap;

use super::archive::Archive;
use super::{load_dir, LoadError, Tariff, TariffSet};

pub struct TariffStore {
    current: ArcSwap<TariffSet>,
    dir: PathBuf,
    default: String,
    /// Every tariff that ever served, by digest.
    archive: Archive,
}

impl TariffStore {
    /// Loads `dir`; `default` names the tariff for requests that name none.
    pub fn load(dir: &Path, default: &str) -> Result<TariffStore, LoadError> {
        let set = TariffSet::new(load_dir(dir)?, default)?;
        Ok(TariffStore::new(set, dir, default))
    }

    pub fn new(set: TariffSet, dir: &Path, default: &str) -> TariffStore {
        let archive = Archive::open(dir);
        archive.keep(&set, dir);
        TariffStore {
            current: ArcSwap::from_pointee(set),
            dir: dir.to_path_buf(),
            default: default.to_string(),
            archive,
        }
    }

    /// The tariff with `digest`: in the set in service, or in any set that served before.
    pub fn by_digest(&self, digest: &str) -> Option<Arc<Tariff>> {
        let current = self.current();
        let serving = current.iter().find(|t| t.digest == digest).cloned();
        serving.or_else(|| self.archive.get(digest))
    }

    /// The set in service now.
    pub fn current(&self) -> Arc<TariffSet> {
        self.current.load_full()
    }

    /// Loads the directory again; on success the new set replaces the old one atomically,
    /// on failure the old one keeps serving and the error says why.
    pub fn reload(&self) -> Result<Arc<TariffSet>, LoadError> {
        let set = Arc::new(TariffSet::new(load_dir(&self.dir)?, &self.default)?);
        self.archive.keep(&set, &self.dir);
        self.current.store(set.clone());
        Ok(set)
    }
}
