//! Exact, explainable bills under China's industrial electricity and water price measures.
//!
//! The engine (`tariff`, `measure`, `bill`) has no HTTP, no I/O and no global state. Above
//! it, `wire` is the contract (what clients send and get back) and `pricing` the one way
//! from a request to a bill; the service (`api`, `startup`), the batch, simulations, the
//! command line and the benchmarks all go through them.
#![forbid(unsafe_code)]

pub mod access;
pub mod api;
pub mod assessment;
pub mod batch;
pub mod bill;
pub mod cli;
pub mod configuration;
pub mod database;
pub mod enterprise;
pub mod export;
pub mod ledger;
pub mod lookup;
pub mod measure;
pub mod memory;
pub mod money;
pub mod names;
pub mod number;
pub mod period;
pub mod population;
pub mod pricing;
pub mod registry;
pub mod simulation;
pub mod startup;
pub mod tariff;
pub mod telemetry;
pub mod text;
pub mod wire;

/// The engine version every bill names, so a bill can be reproduced.
pub const ENGINE_VERSION: &str = env!("CARGO_PKG_VERSION");
