//! The service end to end: the real app on a real port, spoken to over HTTP.

#[path = "../support/mod.rs"]
mod support;

#[path = "../support/probe.rs"]
mod probe;

mod access;
mod back_pressure;
mod bad_input;
mod batch;
mod bills;
mod browser;
mod columnar;
mod examples;
mod exports;
mod helpers;
mod hostile;
mod ledger;
mod lookups;
mod openapi;
mod operations;
mod populations;
mod registry;
mod reload;
mod schema_names;
mod security;
mod simulations;
mod workbench;
