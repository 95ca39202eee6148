//! The engine on its own, with the bundled tariffs: boundary cases per measure and the
//! invariants that must hold for any input.

#[path = "../support/mod.rs"]
mod support;

mod layers;
mod measures;
mod properties;
