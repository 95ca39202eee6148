//! Every tariff that ever served stays retrievable by its digest, so a past bill can be
//! re-priced from the digest it names. Each set that loads is copied, file by file, into
//! `<tariffs dir>/.archive/<set digest>/` (once); at start-up the archived sets load again.
//! Without a writable disk the archive still holds what this process has loaded.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use sha2::{Digest, Sha256};

use super::{load_dir, Tariff, TariffSet};

pub struct Archive {
    dir: PathBuf,
    by_digest: RwLock<HashMap<String, Arc<Tariff>>>,
}

impl Archive {
    /// The archive beside `tariffs_dir`, with every set archived there loaded again.
    pub fn open(tariffs_dir: &Path) -> Archive {
        let archive = Archive {
            dir: tariffs_dir.join(".archive"),
            by_digest: RwLock::default(),
        };
        let sets = std::fs::read_dir(&archive.dir)
            .into_iter()
            .flatten()
            .flatten();
        let whole = sets.filter(|s| !s.file_name().to_string_lossy().contains(".partial"));
        for set in whole {
            match load_dir(&set.path()) {
                Ok(tariffs) => archive.remember(tariffs.into_iter().map(Arc::new)),
                Err(error) => {
                    tracing::warn!(set = %set.path().display(), %error, "an archived tariff set no longer loads; left out")
                }
            }
        }
        archive
    }

    /// Keeps every tariff of `set`, whose files are in `source`: in memory always, on disk
    /// unless that set is there already.
    pub fn keep(&self, set: &TariffSet, source: &Path) {
        self.remember(set.iter().cloned());
        let target = self.dir.join(set_digest(set));
        if target.exists() {
            return;
        }
        if let Err(error) = copy_files(source, &target) {
            tracing::warn!(dir = %self.dir.display(), %error, "cannot archive the tariff set on disk; it is kept in memory only");
        }
    }

    /// The tariff with `digest` (`sha256:…`), from any set that ever loaded.
    pub fn get(&self, digest: &str) -> Option<Arc<Tariff>> {
        let known = self.by_digest.read().unwrap_or_else(|e| e.into_inner());
        known.get(digest).cloned()
    }

    fn remember(&self, tariffs: impl Iterator<Item = Arc<Tariff>>) {
        let mut known = self.by_digest.write().unwrap_or_else(|e| e.into_inner());
        for tariff in tariffs {
            known.entry(tariff.digest.clone()).or_insert(tariff);
        }
    }
}

/// A set's name in the archive: from its tariffs' digests, sorted.
fn set_digest(set: &TariffSet) -> String {
    let mut digests: Vec<&str> = set.iter().map(|t| t.digest.as_str()).collect();
    digests.sort_unstable();
    let mut hash = Sha256::new();
    for digest in digests {
        hash.update(digest.as_bytes());
    }
    hash.finalize()[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Copies the `*.toml` files of `source` into `target`, made whole off to the side first (in a
/// directory of this process's own) so that a half-copied set is never taken for an archived
/// one; where another process archived the same set first, its copy stands.
fn copy_files(source: &Path, target: &Path) -> std::io::Result<()> {
    let partial = target.with_extension(format!(
        "partial-{}-{}",
        std::process::id(),
        fastrand::u64(..)
    ));
    std::fs::create_dir_all(&partial)?;
    for entry in std::fs::read_dir(source)? {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "toml") {
            if let Some(name) = path.file_name() {
                std::fs::copy(&path, partial.join(name))?;
            }
        }
    }
    let renamed = std::fs::rename(&partial, target);
    if renamed.is_err() && target.exists() {
        return std::fs::remove_dir_all(&partial);
    }
    renamed
}
