fn main() -> std::process::ExitCode {
    tariffd::cli::main()
}
