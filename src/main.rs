/// The batch allocates and frees a few small values per record on several threads, and
/// hands each chunk's output to another thread to free; mimalloc does this with less work
/// than the system allocator.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    tariffd::memory::set_release(release_freed);
    tariffd::cli::main()
}

/// Returns the memory mimalloc holds freed to the system now, not after its next spell of
/// activity: after a population is kept, the buffers it outgrew stay resident otherwise.
fn release_freed() {
    // SAFETY: `mi_collect` takes no pointers; it only frees memory mimalloc holds unused.
    unsafe { libmimalloc_sys::mi_collect(true) }
}
