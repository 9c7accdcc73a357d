//! The `klonopin-bot` binary: parse the command line, run, turn the result into an exit code.

fn main() -> std::process::ExitCode {
    klonopin_bot::cli::main()
}
