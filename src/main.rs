fn main() -> std::process::ExitCode {
    ratingwatch::cli::main()
}
