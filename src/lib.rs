//! Exact, explainable bills under China's industrial electricity and water price measures.
//!
//! The engine (`tariff`, `measure`, `bill`) has no HTTP, no I/O and no global state; the
//! service (`api`, `startup`), the command line and the benchmarks all call it.
#![forbid(unsafe_code)]

pub mod api;
pub mod assessment;
pub mod batch;
pub mod bill;
pub mod cli;
pub mod configuration;
pub mod enterprise;
pub mod lookup;
pub mod measure;
pub mod money;
pub mod number;
pub mod period;
pub mod population;
pub mod simulation;
pub mod startup;
pub mod tariff;
pub mod telemetry;

/// The engine version every bill names, so a bill can be reproduced.
pub const ENGINE_VERSION: &str = env!("CARGO_PKG_VERSION");
