//! The one way commands write to stdout. A reader that goes away early (`ratingwatch … | head`)
//! closes the pipe; the standard `print!` macros then panic with "Broken pipe". Here a closed
//! pipe is a quiet, successful end of output: the write reports success and the command
//! finishes normally (exit 0). Any other write failure (a full disk behind a redirect) is an
//! error naming stdout.

use std::io::{ErrorKind, Write};

use anyhow::Context as _;

/// The terminal's width in columns when stdout is a terminal, for tables to fit in; `None`
/// when stdout is a pipe or a file (tables are then drawn at their full width).
pub(crate) fn terminal_width() -> Option<u16> {
    use std::io::IsTerminal as _;
    let stdout = std::io::stdout();
    if !stdout.is_terminal() {
        return None;
    }
    terminal_size::terminal_size_of(&stdout).map(|(width, _)| width.0)
}

/// Writes `text` to stdout as is and flushes it.
pub(crate) fn out(text: &str) -> anyhow::Result<()> {
    write_quietly(&mut std::io::stdout().lock(), text.as_bytes()).context("cannot write to stdout")
}

/// Writes `line` and a newline to stdout.
pub(crate) fn outln(line: &str) -> anyhow::Result<()> {
    out(&format!("{line}\n"))
}

/// Writes one line to stderr and never fails: with stderr closed or failing there is nowhere
/// left to report anything, so the line is dropped and the command goes on (`eprintln!` would
/// panic with exit 101, in the middle of a sync when its log reader went away). Use it
/// through [`errln!`](crate::cli::errln).
pub(crate) fn err_line(args: std::fmt::Arguments<'_>) {
    let _ = writeln!(std::io::stderr().lock(), "{args}");
}

/// `eprintln!` that never panics (see [`err_line`]).
macro_rules! errln {
    ($($arg:tt)*) => {
        $crate::cli::stdout::err_line(format_args!($($arg)*))
    };
}
pub(crate) use errln;

/// Writes and flushes; a closed reader (`BrokenPipe`) counts as success.
fn write_quietly(writer: &mut impl Write, bytes: &[u8]) -> std::io::Result<()> {
    match writer.write_all(bytes).and_then(|()| writer.flush()) {
        Err(error) if error.kind() == ErrorKind::BrokenPipe => Ok(()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A writer failing every write with the given kind.
    struct Failing(ErrorKind);

    impl Write for Failing {
        fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
            Err(std::io::Error::from(self.0))
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_closed_pipe_ends_output_quietly() {
        assert!(write_quietly(&mut Failing(ErrorKind::BrokenPipe), b"row\n").is_ok());
    }

    #[test]
    fn other_write_failures_are_errors() {
        let error = write_quietly(&mut Failing(ErrorKind::StorageFull), b"row\n").unwrap_err();
        assert_eq!(error.kind(), ErrorKind::StorageFull);
    }

    #[test]
    fn text_is_written_whole() {
        let mut buffer = Vec::new();
        write_quietly(&mut buffer, "腾讯 0700.HK\n".as_bytes()).unwrap();
        assert_eq!(buffer, "腾讯 0700.HK\n".as_bytes());
    }
}
