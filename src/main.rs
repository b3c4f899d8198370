use std::process::ExitCode;

fn main() -> ExitCode {
    backprop_lab::cli::main()
}
