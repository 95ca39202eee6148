//! `tariffd check-tariffs`: validate the tariff files and print each digest; with
//! `--provisional`, every value a price bureau still has to confirm.

use super::*;
use crate::tariff::Tariff;

pub fn check_tariffs(settings: Settings, dir: Option<PathBuf>, provisional: bool) -> ExitCode {
    match load_tariffs(&settings, dir) {
        Err(e) => fail(e),
        Ok(set) => {
            for t in set.iter() {
                let count = t
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
                    count,
                    t.digest
                );
                if provisional {
                    print!("{}", provisional_values(t));
                }
            }
            ExitCode::SUCCESS
        }
    }
}

/// The provisional values a tariff's own file sets (inherited ones are listed under the
/// tariff that sets them), each with its note and the evidence of its document.
fn provisional_values(t: &Tariff) -> String {
    let mut out = String::new();
    for p in &t.parameters {
        let own = p
            .entries
            .iter()
            .filter(|e| e.provisional && *e.defined_in == *t.id());
        for e in own {
            let document = t.document(e.source);
            out.push_str(&format!(
                "  {} from {}: {} ({})\n",
                p.path, e.from, e.display, document.number
            ));
            if let Some(note) = &e.note {
                out.push_str(&format!("      note: {note}\n"));
            }
            for evidence in &document.evidence {
                out.push_str(&format!(
                    "      evidence: {} ({})\n",
                    evidence.address, evidence.confirms
                ));
            }
        }
    }
    out
}
