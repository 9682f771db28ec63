//! The `guichet` binary: everything lives in the library; see `guichet --help`.

fn main() -> std::process::ExitCode {
    guichet::cli::main()
}
