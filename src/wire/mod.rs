//! The contract: what clients send (request types, the quick reader, the CSV layout) and
//! what they get back (bill views, the JSON writer, problems). No HTTP here: the service,
//! the batch, the simulation intake and the command line all speak through it.

pub mod csv;
pub mod export;
pub mod json;
pub mod problem;
pub mod request;
pub mod simulation;
pub mod view;
