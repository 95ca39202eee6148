//! Giving freed memory back to the system after work that freed much of it at once: reading
//! a population to keep grows its buffers by doubling, and the allocator otherwise keeps the
//! outgrown ones resident until it next gets busy. The allocator is the binary's choice, so
//! the binary says how ([`set_release`]).

use std::sync::OnceLock;

static RELEASE: OnceLock<fn()> = OnceLock::new();

/// How to hand freed memory back to the system (set once, by the binary).
pub fn set_release(release: fn()) {
    let _ = RELEASE.set(release);
}

/// Hands memory freed so far back to the system, if the binary said how.
pub fn release_freed() {
    if let Some(release) = RELEASE.get() {
        release();
    }
}
