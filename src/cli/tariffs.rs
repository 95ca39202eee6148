//! `tariffd check-tariffs`: validate the tariff files and print each digest.

use super::*;

pub fn check_tariffs(settings: Settings, dir: Option<PathBuf>) -> ExitCode {
    match load_tariffs(&settings, dir) {
        Err(e) => fail(e),
        Ok(set) => {
            for t in set.iter() {
                let provisional = t
                    .parameters
                    .iter()
                    .flat_map(|p| &p.entries)
                    .filter(|e| e.provisional)
                    .count();
                println!(
                    "{} {} ({} parameters, {} provisional values) {}",
                    t.id(),
                    t.meta.version,
                    t.parameters.len(),
                    provisional,
                    t.digest
                );
            }
            ExitCode::SUCCESS
        }
    }
}
