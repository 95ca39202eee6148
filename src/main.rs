/// The batch allocates and frees a few small values per record on several threads, and
/// hands each chunk's output to another thread to free; mimalloc does this with less work
/// than the system allocator.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    tariffd::cli::main()
}
