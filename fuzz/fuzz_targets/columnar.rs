//! Any bytes as a Parquet or Arrow IPC upload: reading it must end in rows or a problem,
//! within the memory its limits allow (run with `-malloc_limit_mb`, which fails on any one
//! allocation past it: a file that talks a reader into a huge buffer is found).
#![no_main]

use libfuzzer_sys::fuzz_target;
use tariffd::batch::{columnar, Columnar, Limits};

const LIMITS: Limits = Limits {
    max_line_bytes: 65536,
    max_lines: 100_000,
    max_file_bytes: 16 << 20,
    max_decoded_bytes: 1 << 30,
};

fuzz_target!(|data: &[u8]| {
    // A reader that asserts on damage is caught and answered as a problem, as the server
    // does; libFuzzer's own hook would count that as a crash.
    static QUIET: std::sync::Once = std::sync::Once::new();
    QUIET.call_once(|| std::panic::set_hook(Box::new(|_| {})));
    let Some((kind, file)) = data.split_first() else { return };
    let kind = if kind % 2 == 0 { Columnar::Parquet } else { Columnar::Arrow };
    let Ok((_, mut rows)) = columnar::open(kind, file.to_vec().into(), LIMITS) else { return };
    let mut records = Vec::new();
    while let Ok(true) = rows.read(&mut records) {
        records.clear();
    }
});
